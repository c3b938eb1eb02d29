package audiences

import (
	"encoding/json"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// identity is what an event is counted for: its userId when that is a
// known identity, else its anonymousId (the profile follower's rule, which
// refuses junk ids as identities).
type identity struct{ kind, value string }

type stateKey struct {
	leaf string
	id   identity
}

// delta is what a batch adds to one identity's state of one leaf: the
// matching events' times, and the profile the identity belonged to.
type delta struct {
	profile string
	stamps  []time.Time
}

// applyEvents updates the leaf states for events the audience follower
// has not seen yet and evaluates the profiles they touched: those with an
// event matching a performed leaf (the reverse index from event name or
// type to leaves decides without decoding anything), and those the profile
// follower marked (traits, identities, merges). An event no leaf reads
// costs nothing more than its row in the feed.
func (p *pass) applyEvents(events []store.FeedEvent) error {
	var users, anons []string
	for i := range events {
		e := &events[i]
		if e.Source == Source || !p.s.reads(e.Type, e.Event) {
			continue
		}
		users = append(users, e.UserID)
		anons = append(anons, e.AnonymousID)
	}
	userProf, err := p.tx.IdentityProfiles(store.IdentityUser, users)
	if err != nil {
		return err
	}
	anonProf, err := p.tx.IdentityProfiles(store.IdentityAnon, anons)
	if err != nil {
		return err
	}
	deltas := map[stateKey]*delta{}
	lastOf := map[string]string{}
	var touched []string
	for i := range events {
		e := &events[i]
		if e.Source == Source || !p.s.reads(e.Type, e.Event) {
			continue // our own transitions, or an event no leaf counts
		}
		var id identity
		var prof string
		if k, ok := userProf[e.UserID]; ok && e.UserID != "" {
			id, prof = identity{store.IdentityUser, e.UserID}, k
		} else if k, ok := anonProf[e.AnonymousID]; ok && e.AnonymousID != "" {
			id, prof = identity{store.IdentityAnon, e.AnonymousID}, k
		} else {
			continue // suppressed, refused or without ids: no profile holds it
		}
		ts := e.ReceivedAt
		if e.Timestamp != nil {
			ts = *e.Timestamp
		}
		var props map[string]any
		if len(e.Raw) > 0 {
			props = properties(e.Raw)
		}
		matched := false
		for _, leaf := range p.s.matching(e.Type, e.Event, props, ts) {
			k := stateKey{leaf.ID, id}
			d := deltas[k]
			if d == nil {
				d = &delta{profile: prof}
				deltas[k] = d
			}
			d.stamps = append(d.stamps, ts)
			matched = true
		}
		if matched {
			touched = append(touched, prof)
			// The profile's latest matching event of the batch is the
			// cause of its transitions.
			lastOf[prof] = e.MessageID
		}
	}
	// Profiles the profile follower changed (traits, identities, merges)
	// are marked in its transactions; they are evaluated too, and those
	// that no longer exist leave.
	dirty, err := p.tx.TakeDirty(dirtyBatch)
	if err != nil {
		return err
	}
	touched = dedupe(append(touched, dirty...))
	causes := make(map[string]cause, len(touched))
	for _, k := range touched {
		m := lastOf[k]
		if m == "" {
			m = "profile"
		}
		causes[k] = cause{message: m, at: p.now}
	}
	p.deltas = deltas
	if err := p.evaluate(touched, causes); err != nil {
		return err
	}
	return p.leaveGone(dirty)
}

// properties decodes an event's properties for where clauses.
func properties(raw []byte) map[string]any {
	var e struct {
		Properties json.RawMessage `json:"properties"`
	}
	if json.Unmarshal(raw, &e) != nil || len(e.Properties) == 0 {
		return nil
	}
	return DecodeProps(e.Properties)
}

// addDeltas folds the batch's matching events into the stored states of
// their identities (read with the profiles, in byKey) and writes the
// states it changed. An identity whose state the profile read did not
// return (it moved to another profile since the batch resolved it) is
// read on its own, so its stored count is never overwritten.
func (p *pass) addDeltas(byKey map[stateKey]*LeafState, owner map[stateKey]string) error {
	if len(p.deltas) == 0 {
		return nil
	}
	leaves := p.s.leaves()
	missing := map[string][]string{}
	for k := range p.deltas {
		if _, ok := byKey[k]; !ok {
			missing[k.id.kind] = append(missing[k.id.kind], k.id.value)
		}
	}
	for kind, values := range missing {
		rows, err := p.tx.LeafStates(kind, values)
		if err != nil {
			return err
		}
		for _, r := range rows {
			k := stateKey{r.LeafID, identity{r.Kind, r.Value}}
			if _, want := p.deltas[k]; want {
				byKey[k] = decodeState(r.State)
			}
		}
	}
	out := make([]store.LeafStateRow, 0, len(p.deltas))
	for k, d := range p.deltas {
		leaf := leaves[k.leaf]
		st := byKey[k]
		if st == nil {
			st = &LeafState{}
			byKey[k] = st
		}
		if _, ok := owner[k]; !ok {
			owner[k] = d.profile
		}
		for _, ts := range d.stamps {
			st.Add(ts, leaf.Keep())
		}
		st.Prune(p.now, leaf.Window)
		out = append(out, store.LeafStateRow{LeafID: k.leaf, Kind: k.id.kind, Value: k.id.value, State: encodeState(st)})
	}
	p.deltas = nil
	return p.tx.PutLeafStates(out)
}

// leaveGone removes the memberships of profiles that no longer exist. A
// profile merged into another leaves quietly (history says "merged"; the
// surviving profile was evaluated once, with the union of both states);
// one erased leaves no trace.
func (p *pass) leaveGone(candidates []string) error {
	if len(candidates) == 0 {
		return nil
	}
	rows, err := p.tx.Memberships(candidates)
	if err != nil || len(rows) == 0 {
		return err
	}
	keys := map[string]bool{}
	for _, r := range rows {
		keys[r.ProfileKey] = true
	}
	list := make([]string, 0, len(keys))
	for k := range keys {
		list = append(list, k)
	}
	exists, err := p.tx.Profiles(list)
	if err != nil {
		return err
	}
	var gone []string
	for _, k := range list {
		if _, ok := exists[k]; !ok {
			gone = append(gone, k)
			p.timers = append(p.timers, store.TimerSet{Key: k})
		}
	}
	if len(gone) == 0 {
		return nil
	}
	for _, r := range rows {
		if _, ok := exists[r.ProfileKey]; !ok && r.Member {
			p.hist = append(p.hist, store.HistoryRow{AudienceKey: r.AudienceKey, Version: r.Version, ProfileKey: r.ProfileKey,
				Entered: false, At: p.now, Cause: "merged"})
		}
	}
	return p.tx.DeleteProfileMemberships(gone)
}

// dirtyBatch bounds the profiles marked by the profile follower that one
// transaction takes; the rest wait for the next.
const dirtyBatch = 5000

func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
