package audiences

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// PreviewResult is who matches a definition now.
type PreviewResult struct {
	Count  int64
	Sample []string // profile keys, at most 10
}

// Preview counts the profiles a definition matches now, without saving
// it. Only the definition and the audiences it refers to are evaluated.
// A leaf no stored audience has built yet is counted from the stored
// events: per profile by the database where it can (PostgreSQL, no where
// clause), else per identity in memory.
func (e *Engine) Preview(ctx context.Context, ws uuid.UUID, raw []byte) (PreviewResult, error) {
	d, err := ParsePreview(raw, e.opts.Limits)
	if err != nil {
		return PreviewResult{}, err
	}
	var out PreviewResult
	err = e.st.AudienceRead(ctx, ws, func(tx *store.AudienceTx) error {
		rows, err := tx.Audiences()
		if err != nil {
			return err
		}
		defs := []*Definition{d}
		for _, r := range rows {
			if r.Key == d.Key {
				continue
			}
			od, err := Parse(r.Definition, storedLimits)
			if err != nil {
				return fmt.Errorf("stored audience %q: %w", r.Key, err)
			}
			defs = append(defs, od)
		}
		if err := CheckWorkspace(defs, Limits{MaxAudiences: 1 << 20}); err != nil {
			return err
		}
		set, err := NewSet(referenced(defs))
		if err != nil {
			return err
		}
		ready, err := tx.ReadyLeaves()
		if err != nil {
			return err
		}
		now := e.opts.Now().UTC()
		via := siblingLeaves(set, defs[1:], rows, ready)
		extra := map[string]*Performed{}
		for _, sib := range via {
			extra[sib.ID] = sib
		}
		mem := map[string]map[identity]*LeafState{}
		byProfile := map[string]map[string]*LeafState{}
		for id, leaf := range set.leaves {
			if ready[id] || via[id] != nil {
				continue
			}
			if states, ok, err := leafStatesByProfile(tx, leaf, now); err != nil {
				return err
			} else if ok {
				byProfile[id] = states
				continue
			}
			if mem[id], err = countLeaf(tx, leaf); err != nil {
				return err
			}
		}
		s := &stored{rows: map[string]store.AudienceRow{}, next: set, extra: extra}
		p := &pass{tx: tx, s: s, now: now, via: via}
		cands, narrowed, err := p.candidates(d, set, ready, byProfile)
		if err != nil {
			return err
		}
		after, next := "", 0
		for {
			var keys []string
			var subs map[string]*Subject
			if narrowed {
				// Only the candidates, a page at a time, in key order.
				keys = cands[next:min(next+previewPage, len(cands))]
				next += len(keys)
				if len(keys) == 0 {
					return nil
				}
				if subs, err = p.subjectsOf(keys); err != nil {
					return err
				}
			} else if keys, subs, _, err = p.subjectsPage(after, previewPage); err != nil || len(keys) == 0 {
				return err
			}
			if len(mem) > 0 {
				if err := addMemoryStates(ctx, e.st, ws, subs, mem, set); err != nil {
					return err
				}
			}
			for leafID, sib := range via {
				for _, sub := range subs {
					if st := sub.States[sib.ID]; st != nil {
						sub.States[leafID] = st
					} else {
						delete(sub.States, leafID)
					}
				}
			}
			for leafID, states := range byProfile {
				for k, sub := range subs {
					// Replaces the partial live state of a leaf not built yet.
					if st := states[k]; st != nil {
						sub.States[leafID] = st
					} else {
						delete(sub.States, leafID)
					}
				}
			}
			for _, k := range keys {
				if sub, ok := subs[k]; ok && set.Evaluate(sub, p.now)[d.Key].Member {
					out.Count++
					if len(out.Sample) < 10 {
						out.Sample = append(out.Sample, k)
					}
				}
			}
			after = keys[len(keys)-1]
		}
	})
	return out, err
}

// siblingLeaves maps each leaf of set not built yet to a built leaf of a
// stored audience whose states answer it exactly: the same events (type,
// name, where clauses), and, for a windowed leaf, at least as many
// timestamps kept over a window at least as long (a state's count is of
// all time whatever its window). A preview of a tweaked count or window
// then reads stored states instead of every stored event.
func siblingLeaves(set *Set, stored []*Definition, rows []store.AudienceRow, ready map[string]bool) map[string]*Performed {
	defs := slices.Clone(stored)
	for _, r := range rows {
		// A building audience's current version may read other leaves.
		if r.Building() && r.CurrentVersion > 0 {
			if d, err := Parse(r.CurrentDef, storedLimits); err == nil {
				defs = append(defs, d)
			}
		}
	}
	var built []*Performed
	for _, d := range defs {
		d.Condition.Walk(func(n *Node) {
			if n.Kind == KindPerformed {
				if n.Performed.ID == "" {
					n.Performed.ID = leafID(n.Performed)
				}
				if ready[n.Performed.ID] {
					built = append(built, n.Performed)
				}
			}
		})
	}
	out := map[string]*Performed{}
	for id, leaf := range set.leaves {
		if ready[id] {
			continue
		}
		for _, b := range built {
			if b.answers(leaf) {
				out[id] = b
				break
			}
		}
	}
	return out
}

// answers says whether b's states answer l exactly (siblingLeaves).
func (b *Performed) answers(l *Performed) bool {
	if b.Type != l.Type || b.Event != l.Event || !sameWhere(b.Where, l.Where) {
		return false
	}
	if l.Window == 0 {
		return true
	}
	return b.Window >= l.Window && b.Keep() >= l.Keep()
}

func sameWhere(a, b []*Predicate) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}

// referenced is defs[0] and the definitions it refers to, directly or
// through others: all a preview of defs[0] evaluates.
func referenced(defs []*Definition) []*Definition {
	byKey := make(map[string]*Definition, len(defs))
	for _, d := range defs {
		byKey[d.Key] = d
	}
	out := []*Definition{defs[0]}
	seen := map[string]bool{defs[0].Key: true}
	for i := 0; i < len(out); i++ {
		for _, ref := range out[i].Condition.References() {
			if od := byKey[ref]; od != nil && !seen[ref] {
				seen[ref] = true
				out = append(out, od)
			}
		}
	}
	return out
}

// leafStatesByProfile is a leaf's state per profile key, counted by the
// database from the stored events (only the window's events for a
// windowed leaf); ok is false where the database cannot (SQLite, or a
// where clause to decide).
func leafStatesByProfile(tx *store.AudienceTx, leaf *Performed, now time.Time) (map[string]*LeafState, bool, error) {
	if len(leaf.Where) > 0 {
		return nil, false, nil
	}
	typ, name := leaf.events()
	floor := int64(0)
	if leaf.Window > 0 {
		floor = now.UnixMilli() - leaf.Window*1000
	}
	rows, ok, err := tx.LeafStatesByProfile(typ, name, leaf.Keep(), floor)
	if err != nil || !ok {
		return nil, false, err
	}
	out := make(map[string]*LeafState, len(rows))
	for _, r := range rows {
		out[r.ProfileKey] = decodeState(r.State)
	}
	return out, true, nil
}

// previewPage is how many profiles a preview reads per round trip.
const previewPage = 2000

// addMemoryStates folds in-memory leaf states into subjects by their
// profiles' identities.
func addMemoryStates(ctx context.Context, st *store.Store, ws uuid.UUID, subs map[string]*Subject, mem map[string]map[identity]*LeafState, set *Set) error {
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ids, err := st.IdentitiesOfProfiles(ctx, ws, keys)
	if err != nil {
		return err
	}
	for k, sub := range subs {
		for leafID, states := range mem {
			leaf := set.leaves[leafID]
			delete(sub.States, leafID) // partial live states of a leaf not built yet
			for _, id := range ids[k] {
				if s := states[identity{id.Kind, id.Value}]; s != nil {
					acc := sub.States[leafID]
					if acc == nil {
						acc = &LeafState{}
						sub.States[leafID] = acc
					}
					acc.Union(s, leaf.Keep())
				}
			}
		}
	}
	return nil
}
