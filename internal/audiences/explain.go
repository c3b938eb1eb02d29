package audiences

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// Explanation answers "why is this user (not) in this audience".
type Explanation struct {
	Result bool     `json:"result"`
	Tree   *Explain `json:"tree"`
}

// Explain evaluates one audience for one profile now, from the stored
// facts (traits, leaf states, other audiences' answers): the current
// version, or the newest while the first build runs.
func (e *Engine) Explain(ctx context.Context, ws uuid.UUID, key, profileKey string) (Explanation, error) {
	var out Explanation
	err := e.st.AudienceRead(ctx, ws, func(tx *store.AudienceTx) error {
		s, err := load(tx)
		if err != nil {
			return err
		}
		row, ok := s.rows[key]
		if !ok {
			return fmt.Errorf("audience %q: %w", key, store.ErrNotFound)
		}
		set := s.cur
		if row.CurrentVersion == 0 {
			set = s.next
		}
		p := &pass{tx: tx, s: s, now: e.opts.Now().UTC()}
		subs, _, err := p.subjects([]string{profileKey})
		if err != nil {
			return err
		}
		sub, ok := subs[profileKey]
		if !ok {
			return fmt.Errorf("profile %q: %w", profileKey, store.ErrNotFound)
		}
		res := set.Evaluate(sub, p.now)[key]
		out = Explanation{Result: res.Member, Tree: res.Tree}
		return nil
	})
	return out, err
}

// PreviewResult is who matches a definition now.
type PreviewResult struct {
	Count  int64
	Sample []string // profile keys, at most 10
}

// Preview counts the profiles a definition matches now, without saving
// it. Leaves no stored audience reads yet are counted from the stored
// events in memory (one state per identity that performed them).
func (e *Engine) Preview(ctx context.Context, ws uuid.UUID, raw []byte) (PreviewResult, error) {
	d, err := Parse(raw, e.opts.Limits)
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
		set, err := NewSet(defs)
		if err != nil {
			return err
		}
		ready, err := tx.ReadyLeaves()
		if err != nil {
			return err
		}
		mem := map[string]map[identity]*LeafState{}
		for id, leaf := range set.leaves {
			if !ready[id] {
				if mem[id], err = e.leafStates(tx, leaf); err != nil {
					return err
				}
			}
		}
		s := &stored{rows: map[string]store.AudienceRow{}, next: set}
		p := &pass{tx: tx, s: s, now: e.opts.Now().UTC()}
		cands, narrowed, err := p.candidates(d, set, ready)
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

// previewPage is how many profiles a preview reads per round trip.
const previewPage = 2000

// leafStates computes one leaf's states from the stored events, in memory.
func (e *Engine) leafStates(tx *store.AudienceTx, leaf *Performed) (map[identity]*LeafState, error) {
	typ, name := "track", leaf.Event
	if leaf.Type != "" {
		typ, name = leaf.Type, ""
	}
	out := map[identity]*LeafState{}
	after := int64(0)
	for {
		events, err := tx.EventsUpTo(typ, name, after, 5000)
		if err != nil {
			return nil, err
		}
		for i := range events {
			ev := &events[i]
			after = ev.Cursor.ID
			ts := ev.ReceivedAt
			if ev.Timestamp != nil {
				ts = *ev.Timestamp
			}
			if !leaf.matches(properties(ev.Raw), ts) {
				continue
			}
			// Both ids: the profile's identities decide which one counts.
			for _, id := range []identity{{store.IdentityUser, ev.UserID}, {store.IdentityAnon, ev.AnonymousID}} {
				if id.value == "" {
					continue
				}
				st := out[id]
				if st == nil {
					st = &LeafState{}
					out[id] = st
				}
				st.Add(ts, leaf.Keep())
				break
			}
		}
		if len(events) < 5000 {
			return out, nil
		}
	}
}

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
