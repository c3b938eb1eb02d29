// Package audiences keeps groups of users defined by what they are (their
// profile's traits) and what they did (their events), current as events
// arrive and as time passes.
//
// A definition is JSON (the contract in issue 20): a key, a name, a
// condition tree of all/any/not/trait/performed/audience nodes,
// includeAnonymous and emitOnBuild. Parse checks it whole before anything
// is stored and names the path of the first fault, e.g.
// condition.all[1].performed.within. Evaluation (eval.go) is pure; the
// follower (follower.go) applies it incrementally after the profile
// follower, with windowed per-identity state, durable timers for window
// edges, and transitions emitted as Audience Entered/Exited events.
package audiences

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// Reserved event names: transitions are emitted under them, so a condition
// on them would feed an audience its own output.
const (
	EventEntered = "Audience Entered"
	EventExited  = "Audience Exited"
)

// Limits bound one workspace's definitions; the zero value gets the defaults.
type Limits struct {
	MaxAudiences int // per workspace, default 50
	MaxNodes     int // per condition, default 32
	MaxDepth     int // of a condition, the root being 1; default 8
}

// WithDefaults fills unset limits.
func (l Limits) WithDefaults() Limits {
	if l.MaxAudiences <= 0 {
		l.MaxAudiences = 50
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = 32
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 8
	}
	return l
}

// MaxDefinitionBytes refuses a huge definition before it is decoded.
const MaxDefinitionBytes = 64 << 10

// maxRawDepth refuses deeply nested JSON (in values too) before decoding:
// a condition of depth 8 needs well under this.
const maxRawDepth = 48

// Definition is one audience as stored and as the API takes it.
type Definition struct {
	Key              string `json:"key"`
	Name             string `json:"name"`
	Condition        *Node  `json:"condition"`
	IncludeAnonymous bool   `json:"includeAnonymous"`
	EmitOnBuild      bool   `json:"emitOnBuild"`
}

// Node kinds, as the explain tree names them.
const (
	KindAll       = "all"
	KindAny       = "any"
	KindNot       = "not"
	KindTrait     = "trait"
	KindPerformed = "performed"
	KindAudience  = "audience"
)

// Node is one condition. Exactly one kind's fields are set.
type Node struct {
	Kind      string     `json:"-"`
	Children  []*Node    `json:"-"` // all, any (and not: one child)
	Trait     *Predicate `json:"-"` // Path is the trait's dotted path
	Performed *Performed `json:"-"`
	Audience  string     `json:"-"`
}

// Predicate compares a value found at a dotted path.
type Predicate struct {
	Path  string          `json:"-"`
	Op    string          `json:"op"`
	Value json.RawMessage `json:"value,omitempty"`

	compiled compiled
}

// Performed counts a profile's events of one name (or type) whose
// properties match Where, by the events' own timestamps.
type Performed struct {
	Event  string       `json:"event,omitempty"`
	Type   string       `json:"type,omitempty"`
	Where  []*Predicate `json:"where,omitempty"`
	Count  CountOp      `json:"count"`
	Within string       `json:"within,omitempty"`

	Window int64  `json:"-"` // within in seconds, 0 for all time
	ID     string `json:"-"` // content hash naming its state
}

// CountOp compares the number of matching events.
type CountOp struct {
	Op    string `json:"op"`
	Value int64  `json:"value"`
}

// MaxCount bounds a count's value, and so the timestamps kept per state.
const MaxCount = 1000

var keyRE = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// Error is a refused definition: Path names the fault's place.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func fault(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// MarshalJSON writes a node back in the contract's shape.
func (n *Node) MarshalJSON() ([]byte, error) {
	switch n.Kind {
	case KindAll, KindAny:
		return json.Marshal(map[string][]*Node{n.Kind: n.Children})
	case KindNot:
		return json.Marshal(map[string]*Node{"not": n.Children[0]})
	case KindTrait:
		m := map[string]any{"trait": n.Trait.Path, "op": n.Trait.Op}
		if len(n.Trait.Value) > 0 {
			m["value"] = n.Trait.Value
		}
		return json.Marshal(m)
	case KindPerformed:
		return json.Marshal(map[string]*Performed{"performed": n.Performed})
	case KindAudience:
		return json.Marshal(map[string]string{"audience": n.Audience})
	}
	return nil, fmt.Errorf("audiences: node of unknown kind %q", n.Kind)
}

// MarshalJSON writes a where predicate with its property path.
func (p *Predicate) MarshalJSON() ([]byte, error) {
	m := map[string]any{"property": p.Path, "op": p.Op}
	if len(p.Value) > 0 {
		m["value"] = p.Value
	}
	return json.Marshal(m)
}

// Walk calls fn for n and every node under it, depth first.
func (n *Node) Walk(fn func(*Node)) {
	fn(n)
	for _, c := range n.Children {
		c.Walk(fn)
	}
}

// References lists the audience keys n refers to.
func (n *Node) References() []string {
	var out []string
	n.Walk(func(x *Node) {
		if x.Kind == KindAudience {
			out = append(out, x.Audience)
		}
	})
	return out
}

// MarshalDefinition writes a definition in the contract's shape.
func MarshalDefinition(d *Definition) ([]byte, error) { return json.Marshal(d) }
