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

// applyEvents updates the leaf states for events the audience follower
// has not seen yet and evaluates the profiles they touched.
func (p *pass) applyEvents(events []store.FeedEvent) error {
	var users, anons []string
	for i := range events {
		e := &events[i]
		users = append(users, e.UserID, e.PreviousID)
		anons = append(anons, e.AnonymousID, e.PreviousID)
	}
	userProf, err := p.tx.IdentityProfiles(store.IdentityUser, users)
	if err != nil {
		return err
	}
	anonProf, err := p.tx.IdentityProfiles(store.IdentityAnon, anons)
	if err != nil {
		return err
	}
	deltas := map[stateKey][]time.Time{}
	causes := map[string]cause{}
	lastOf := map[string]string{}
	var touched []string
	for i := range events {
		e := &events[i]
		if e.Source == Source {
			continue // our own transitions: no leaf reads them
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
		matched := false
		if p.s.reads(e.Type, e.Event) {
			for _, leaf := range p.s.matching(e.Type, e.Event, properties(e.Raw), ts) {
				k := stateKey{leaf.ID, id}
				deltas[k] = append(deltas[k], ts)
				matched = true
			}
		}
		if matched {
			touched = append(touched, prof)
		}
		// The latest event of a profile in the batch is the cause of its
		// transitions, whichever way the profile was touched.
		lastOf[prof] = e.MessageID
	}
	// Profiles the profile follower changed (traits, identities, merges)
	// are marked in its transactions; they are evaluated too, and those
	// that no longer exist leave.
	dirty, err := p.tx.TakeDirty(dirtyBatch)
	if err != nil {
		return err
	}
	touched = append(touched, dirty...)
	for _, k := range touched {
		m := lastOf[k]
		if m == "" {
			m = "profile"
		}
		causes[k] = cause{message: m, at: p.now}
	}
	if err := p.addStates(deltas); err != nil {
		return err
	}
	touched = dedupe(touched)
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

// addStates folds matching events into the identities' stored states.
func (p *pass) addStates(deltas map[stateKey][]time.Time) error {
	if len(deltas) == 0 {
		return nil
	}
	byKind := map[string][]string{}
	for k := range deltas {
		byKind[k.id.kind] = append(byKind[k.id.kind], k.id.value)
	}
	stored := map[stateKey]*LeafState{}
	for kind, values := range byKind {
		rows, err := p.tx.LeafStates(kind, values)
		if err != nil {
			return err
		}
		for _, r := range rows {
			stored[stateKey{r.LeafID, identity{r.Kind, r.Value}}] = decodeState(r.State)
		}
	}
	leaves := p.s.leaves()
	var out []store.LeafStateRow
	for k, stamps := range deltas {
		leaf := leaves[k.leaf]
		st := stored[k]
		if st == nil {
			st = &LeafState{}
		}
		for _, ts := range stamps {
			st.Add(ts, leaf.Keep())
		}
		st.Prune(p.now, leaf.Window)
		out = append(out, store.LeafStateRow{LeafID: k.leaf, Kind: k.id.kind, Value: k.id.value, State: encodeState(st)})
	}
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
