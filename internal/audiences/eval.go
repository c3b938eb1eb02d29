package audiences

import (
	"encoding/json"
	"time"
)

// Subject is what evaluation reads of one profile.
type Subject struct {
	Key         string
	UserID      string
	AnonymousID string
	Traits      map[string]any        // current trait values, numbers as json.Number
	States      map[string]*LeafState // by leaf id, the union over the profile's identities
}

// Explain is the explain tree of the API: each node's answer, what it saw
// (a trait's value, a count in the window, a membership) and when it flips
// with no new event, if ever.
type Explain struct {
	Type         string     `json:"type"`
	Result       bool       `json:"result"`
	Seen         any        `json:"seen,omitempty"`
	NextChangeAt *time.Time `json:"nextChangeAt"`
	Children     []*Explain `json:"children,omitempty"`
}

// Result is one audience's answer for a subject.
type Result struct {
	Member bool
	Next   time.Time // when it may change with no new event; zero: never
	Tree   *Explain
}

// Set is a workspace's compiled audiences in evaluation order: every
// audience after those it refers to.
type Set struct {
	Ordered []*Definition
	byEvent map[string][]*Performed
	byType  map[string][]*Performed
	leaves  map[string]*Performed
}

// NewSet orders defs (refusing cycles and missing references) and indexes
// their performed leaves by what they count.
func NewSet(defs []*Definition) (*Set, error) { return newSet(defs, false) }

// newSet is NewSet; lenient lets references to absent audiences through
// (they answer false).
func newSet(defs []*Definition, lenient bool) (*Set, error) {
	ord, err := order(defs, lenient)
	if err != nil {
		return nil, err
	}
	s := &Set{Ordered: ord, byEvent: map[string][]*Performed{}, byType: map[string][]*Performed{}, leaves: map[string]*Performed{}}
	for _, d := range ord {
		d.Condition.Walk(func(n *Node) {
			if n.Kind != KindPerformed {
				return
			}
			p := n.Performed
			if p.ID == "" {
				p.ID = leafID(p)
			}
			if _, dup := s.leaves[p.ID]; dup {
				return
			}
			s.leaves[p.ID] = p
			if p.Event != "" {
				s.byEvent[p.Event] = append(s.byEvent[p.Event], p)
			} else {
				s.byType[p.Type] = append(s.byType[p.Type], p)
			}
		})
	}
	return s, nil
}

// Leaf returns the performed leaf of an id.
func (s *Set) Leaf(id string) *Performed { return s.leaves[id] }

// Leaves is every distinct performed leaf.
func (s *Set) Leaves() map[string]*Performed { return s.leaves }

// Matching lists the leaves an event counts for: track events by name,
// the other calls by type. props is the event's decoded properties (nil
// when there are none); ts is the event's time.
func (s *Set) Matching(typ, name string, props map[string]any, ts time.Time) []*Performed {
	var cands []*Performed
	if typ == "track" {
		cands = s.byEvent[name]
	} else {
		cands = s.byType[typ]
	}
	var out []*Performed
	for _, p := range cands {
		if p.matches(props, ts) {
			out = append(out, p)
		}
	}
	return out
}

// Reads says whether any leaf counts events of this type and name: the
// reverse index that lets most events skip the properties' decoding.
func (s *Set) Reads(typ, name string) bool {
	if typ == "track" {
		return len(s.byEvent[name]) > 0
	}
	return len(s.byType[typ]) > 0
}

// matches applies where to an event's properties. A time-relative op
// (within) is judged at the event's own timestamp, so the answer never
// depends on when the event arrived.
func (p *Performed) matches(props map[string]any, ts time.Time) bool {
	for _, w := range p.Where {
		v, ok := lookup(props, w.Path)
		if !w.compiled.eval(v, ok, ts).ok {
			return false
		}
	}
	return true
}

// Evaluate answers every audience of the set for one subject at now, in
// order, so audience references read answers computed before them.
func (s *Set) Evaluate(sub *Subject, now time.Time) map[string]Result {
	out := make(map[string]Result, len(s.Ordered))
	for _, d := range s.Ordered {
		out[d.Key] = EvaluateOne(d, sub, now, out)
	}
	return out
}

// EvaluateOne answers one audience; others holds the answers of the
// audiences it refers to.
func EvaluateOne(d *Definition, sub *Subject, now time.Time, others map[string]Result) Result {
	tree := evalNode(d.Condition, sub, now, others)
	r := Result{Member: tree.Result, Tree: tree}
	if tree.NextChangeAt != nil {
		r.Next = *tree.NextChangeAt
	}
	if !d.IncludeAnonymous && sub.UserID == "" {
		// Anonymous profiles are never members; their tree still explains.
		r.Member = false
	}
	return r
}

func evalNode(n *Node, sub *Subject, now time.Time, others map[string]Result) *Explain {
	e := &Explain{Type: n.Kind}
	var next time.Time
	switch n.Kind {
	case KindAll, KindAny:
		e.Result = n.Kind == KindAll
		for _, c := range n.Children {
			ce := evalNode(c, sub, now, others)
			e.Children = append(e.Children, ce)
			if n.Kind == KindAll {
				e.Result = e.Result && ce.Result
			} else {
				e.Result = e.Result || ce.Result
			}
			next = earliest(next, ce.NextChangeAt)
		}
	case KindNot:
		ce := evalNode(n.Children[0], sub, now, others)
		e.Children = []*Explain{ce}
		e.Result = !ce.Result
		next = earliest(next, ce.NextChangeAt)
	case KindTrait:
		v, ok := lookup(sub.Traits, n.Trait.Path)
		o := n.Trait.compiled.eval(v, ok, now)
		e.Result, next = o.ok, o.next
		if ok {
			e.Seen = v
		}
	case KindPerformed:
		ok, seen, nx := evalPerformed(n.Performed, sub.States[n.Performed.ID], now)
		e.Result, e.Seen, next = ok, seen, nx
	case KindAudience:
		r := others[n.Audience]
		e.Result, e.Seen, next = r.Member, r.Member, r.Next
	}
	if !next.IsZero() {
		t := next.UTC()
		e.NextChangeAt = &t
	}
	return e
}

func earliest(a time.Time, b *time.Time) time.Time {
	if b == nil || b.IsZero() {
		return a
	}
	if a.IsZero() || b.Before(a) {
		return *b
	}
	return a
}

// DecodeProps decodes an event's properties (or a profile's traits) for
// evaluation, numbers kept exact as json.Number; nil when raw is not an
// object.
func DecodeProps(raw []byte) map[string]any {
	v, err := decodeValue(raw)
	if err != nil {
		return nil
	}
	m, _ := v.(map[string]any)
	return m
}

// MarshalValue writes a node back, for storage; used with json.Marshal.
var _ json.Marshaler = (*Node)(nil)
