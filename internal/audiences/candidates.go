package audiences

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"
)

// candidates narrows a preview to the profiles that can match d, from what
// the database indexes: for each condition the definition needs (the root,
// or each child of a root all), a performed leaf whose states are stored
// and that a count of 0 does not satisfy can only hold for profiles with a
// state of that leaf (with a time in its window), and a string eq trait
// only for profiles with that searchable value. Their intersection is a
// superset of the members; every candidate is still evaluated exactly.
// A leaf not built yet whose states the preview counted per profile
// (byProfile) gives exactly the profiles it holds for.
// ok is false when nothing narrows (every profile is a candidate).
func (p *pass) candidates(d *Definition, set *Set, ready map[string]bool, byProfile map[string]map[string]*LeafState) ([]string, bool, error) {
	conds := []*Node{d.Condition}
	if d.Condition.Kind == KindAll {
		conds = d.Condition.Children
	}
	var have map[string]bool
	narrowed := false
	for _, n := range conds {
		keys, ok, err := p.candidatesOf(n, set, ready, byProfile)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			continue
		}
		next := make(map[string]bool, len(keys))
		for _, k := range keys {
			if !narrowed || have[k] {
				next[k] = true
			}
		}
		have, narrowed = next, true
	}
	if !narrowed {
		return nil, false, nil
	}
	out := make([]string, 0, len(have))
	for k := range have {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, true, nil
}

func (p *pass) candidatesOf(n *Node, set *Set, ready map[string]bool, byProfile map[string]map[string]*LeafState) ([]string, bool, error) {
	switch n.Kind {
	case KindPerformed:
		leaf := set.leaves[n.Performed.ID]
		stateID := n.Performed.ID
		if sib := p.via[stateID]; sib != nil {
			stateID = sib.ID // a built sibling's states answer it
		}
		if states, ok := byProfile[n.Performed.ID]; ok && leaf != nil && !cmpCount(leaf.Count, 0) {
			var keys []string
			for k, st := range states {
				if held, _, _ := evalPerformed(leaf, st, p.now); held {
					keys = append(keys, k)
				}
			}
			return keys, true, nil
		}
		if leaf == nil || !ready[stateID] || cmpCount(leaf.Count, 0) {
			return nil, false, nil
		}
		since := int64(0)
		if leaf.Window > 0 {
			since = p.now.UnixMilli() - leaf.Window*1000
		}
		keys, err := p.tx.ProfilesWithLeafState(stateID, since, leastCount(leaf.Count))
		return keys, err == nil, err
	case KindTrait:
		t := n.Trait
		var s string
		if t.Op != "eq" || strings.Contains(t.Path, ".") || json.Unmarshal(t.Value, &s) != nil ||
			utf8.RuneCountInString(s) > 256 || len(t.Path) > 256 {
			return nil, false, nil
		}
		keys, err := p.tx.ProfilesWithTrait(t.Path, s)
		return keys, err == nil, err
	}
	return nil, false, nil
}

// leastCount is the fewest counted events a count can hold with (1 for
// the ops a count of 0 may satisfy; those never narrow anyway).
func leastCount(c CountOp) int64 {
	switch c.Op {
	case "gte", "eq":
		return max(c.Value, 1)
	case "gt":
		return max(c.Value+1, 1)
	}
	return 1
}

// subjectsOf reads the subjects of keys (a preview's candidates).
func (p *pass) subjectsOf(keys []string) (map[string]*Subject, error) {
	subs, _, err := p.subjects(keys)
	return subs, err
}
