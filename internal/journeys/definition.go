// Package journeys runs journeys: JSON definitions, instances as rows,
// steps advanced in one transaction with their timer (internal/timers)
// and their send intent (the messages outbox), and the sender that works
// from that outbox.
package journeys

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
)

// Limits of a definition.
const (
	MaxSteps           = 100 // in the whole tree, nested steps included
	MaxDefinitionBytes = 256 << 10
	MaxWait            = 365 * 24 * time.Hour
	maxMatch           = 16 // properties in one match
)

// Definition is a journey as the API takes it (the contract of issue 21).
type Definition struct {
	Key     string  `json:"key"`
	Name    string  `json:"name"`
	Enabled bool    `json:"enabled"`
	Trigger Trigger `json:"trigger"`
	Reentry string  `json:"reentry,omitempty"` // never (default) or always
	ExitOn  *ExitOn `json:"exitOn,omitempty"`
	Steps   []*Step `json:"steps"`

	index map[string]*place // step id → where it is in the tree
}

// Trigger starts instances; exactly one field is set.
type Trigger struct {
	Event           *EventMatch `json:"event,omitempty"`
	AudienceEntered string      `json:"audienceEntered,omitempty"`
	Broadcast       string      `json:"broadcast,omitempty"`
}

// EventMatch matches a track event by name, with audiences' performed
// where (property conditions) and, in waitFor and exitOn, match: the
// properties that must equal those of the instance's triggering event.
type EventMatch struct {
	Event string          `json:"event"`
	Where json.RawMessage `json:"where,omitempty"`
	Match []string        `json:"match,omitempty"`

	leaf *audiences.Performed // the compiled where
}

// ExitOn ends an instance early, also while it waits.
type ExitOn struct {
	Event *EventMatch `json:"event"`
}

// Step kinds, as Kind names them.
const (
	KindWait    = "wait"
	KindEmail   = "email"
	KindWaitFor = "waitFor"
	KindBranch  = "branch"
	KindWebhook = "webhook"
)

// Step is one step; exactly one kind is set.
type Step struct {
	ID      string       `json:"id"`
	Wait    *Wait        `json:"wait,omitempty"`
	Email   *EmailStep   `json:"email,omitempty"`
	WaitFor *WaitFor     `json:"waitFor,omitempty"`
	Branch  *Branch      `json:"branch,omitempty"`
	Webhook *WebhookStep `json:"webhook,omitempty"`
}

// Kind names the step's kind: wait, email, waitFor, branch or webhook.
func (s *Step) Kind() string {
	switch {
	case s.Wait != nil:
		return KindWait
	case s.Email != nil:
		return KindEmail
	case s.WaitFor != nil:
		return KindWaitFor
	case s.Branch != nil:
		return KindBranch
	}
	return KindWebhook
}

// Wait holds an instance for a duration ("1h") or until the time a trait
// holds ({"until": "trait:trial_ends_at"}).
type Wait struct {
	Duration time.Duration // set for a duration
	Until    string        // the trait's name, for until
	text     string        // the duration as written
}

// MarshalJSON writes the wait back as it was written.
func (w *Wait) MarshalJSON() ([]byte, error) {
	if w.Until != "" {
		return json.Marshal(map[string]string{"until": "trait:" + w.Until})
	}
	return json.Marshal(w.text)
}

// EmailStep sends a template, in a group unless the template is transactional.
type EmailStep struct {
	Template string `json:"template"`
	Group    string `json:"group,omitempty"`
	Trait    string `json:"trait,omitempty"` // the address trait; email by default
}

// WaitFor holds an instance until an event (or entering an audience), then
// runs Then; after Timeout it runs OnTimeout. Both lists may be empty.
type WaitFor struct {
	Event     *EventMatch `json:"event,omitempty"`
	Audience  string      `json:"audience,omitempty"`
	Timeout   string      `json:"timeout"`
	Then      []*Step     `json:"then"`
	OnTimeout []*Step     `json:"onTimeout"`

	timeout time.Duration
}

// TimeoutDuration is Timeout parsed.
func (w *WaitFor) TimeoutDuration() time.Duration { return w.timeout }

// Branch runs Then when If holds for the user, else Else.
type Branch struct {
	If   *audiences.Node `json:"if"`
	Then []*Step         `json:"then"`
	Else []*Step         `json:"else"`
}

// WebhookStep posts {"journey","step","user","event"} through the
// destination of this name, signed and retried as that destination is.
type WebhookStep struct {
	Destination string `json:"destination"`
}

// Error is a definition's fault at a path such as steps[1].email.template.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

func fault(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Walk calls fn for every step of the tree in document order (a step
// before its nested ones: branch then, branch else, waitFor then, waitFor
// onTimeout), with its path ("steps[3].waitFor.onTimeout[0]") and its
// depth (0 for top-level steps). The dashboard draws the tree with it.
func (d *Definition) Walk(fn func(s *Step, path string, depth int)) {
	walk(d.Steps, "steps", 0, fn)
}

// Walk is Definition.Walk over any list of steps.
func Walk(steps []*Step, path string, depth int, fn func(s *Step, path string, depth int)) {
	walk(steps, path, depth, fn)
}

func walk(steps []*Step, path string, depth int, fn func(*Step, string, int)) {
	for i, s := range steps {
		p := fmt.Sprintf("%s[%d]", path, i)
		fn(s, p, depth)
		for _, sub := range s.Lists() {
			walk(sub.Steps, p+"."+sub.Name, depth+1, fn)
		}
	}
}

// List is one nested list of a step: "branch.then", "branch.else",
// "waitFor.then" or "waitFor.onTimeout".
type List struct {
	Name  string
	Steps []*Step
}

// Lists are the step's nested lists, in document order (none for wait,
// email and webhook).
func (s *Step) Lists() []List {
	switch {
	case s.Branch != nil:
		return []List{{"branch.then", s.Branch.Then}, {"branch.else", s.Branch.Else}}
	case s.WaitFor != nil:
		return []List{{"waitFor.then", s.WaitFor.Then}, {"waitFor.onTimeout", s.WaitFor.OnTimeout}}
	}
	return nil
}

// Step finds a step by id anywhere in the tree.
func (d *Definition) Step(id string) *Step {
	if p := d.index[id]; p != nil {
		return p.list[p.i]
	}
	return nil
}

// place is where a step sits: its list, its index in it, and the step
// holding that list (nil at the top).
type place struct {
	list   []*Step
	i      int
	parent *Step
}

// next is the step that follows id when id is done: its next sibling, or
// what follows the step holding its list; nil when the journey is over.
func (d *Definition) next(id string) *Step {
	for {
		p := d.index[id]
		if p == nil {
			return nil
		}
		if p.i+1 < len(p.list) {
			return p.list[p.i+1]
		}
		if p.parent == nil {
			return nil
		}
		id = p.parent.ID
	}
}

// MatchProperties are the property names of every match in the journey
// (exitOn and waitFor), sorted and unique: an instance's match values.
func (d *Definition) MatchProperties() []string {
	seen := map[string]bool{}
	var out []string
	add := func(m *EventMatch) {
		if m == nil {
			return
		}
		for _, p := range m.Match {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if d.ExitOn != nil {
		add(d.ExitOn.Event)
	}
	d.Walk(func(s *Step, _ string, _ int) {
		if s.WaitFor != nil {
			add(s.WaitFor.Event)
		}
	})
	sortStrings(out)
	return out
}
