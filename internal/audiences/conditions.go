package audiences

import (
	"encoding/json"
	"time"
)

// This file exports the condition language for other packages (journeys:
// branch conditions and event triggers with where), so they parse and
// evaluate exactly as audiences do.

// ParseCondition reads one condition (all/any/not/trait/performed/audience)
// with the default limits; faults are *Error with paths under path.
func ParseCondition(raw json.RawMessage, path string) (*Node, error) {
	p := &parser{lim: Limits{}.WithDefaults()}
	return p.node(raw, path, 1)
}

// ParseEventMatch reads a performed-style match of a track event by name
// with an optional where (no count, no window). raw is the where array
// (nil for none); faults name path.where[i]….
func ParseEventMatch(name string, where json.RawMessage, path string) (*Performed, error) {
	m := map[string]json.RawMessage{}
	m["event"], _ = json.Marshal(name)
	if len(where) > 0 {
		m["where"] = where
	}
	raw, _ := json.Marshal(m)
	return performed(raw, path)
}

// Matches says whether an event's decoded properties satisfy the where of
// p, judged at the event's own time ts.
func (p *Performed) Matches(props map[string]any, ts time.Time) bool { return p.matches(props, ts) }

// EvaluateCondition answers a condition for a subject at now; others holds
// the memberships that audience nodes read.
func EvaluateCondition(n *Node, sub *Subject, now time.Time, others map[string]Result) bool {
	return evalNode(n, sub, now, others).Result
}
