package audiences

import (
	"bytes"
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
	var touched, gone []string
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
		// Which events can change an answer: those a leaf counts, and those
		// that can change traits or identities (and so merge profiles).
		if matched || e.Type == "identify" || e.Type == "alias" || e.Type == "group" ||
			(e.UserID != "" && e.AnonymousID != "") || bytes.Contains(e.Raw, []byte(`"traits"`)) {
			if _, seen := causes[prof]; !seen {
				touched = append(touched, prof)
			}
			causes[prof] = cause{message: e.MessageID, at: p.now}
			gone = append(gone, "u:"+e.UserID, "a:"+e.AnonymousID)
			if e.PreviousID != "" {
				gone = append(gone, "u:"+e.PreviousID, "a:"+e.PreviousID)
				if k, ok := userProf[e.PreviousID]; ok && causes[k].message == "" {
					touched = append(touched, k)
					causes[k] = cause{message: e.MessageID, at: p.now}
				}
			}
		}
	}
	if err := p.addStates(deltas); err != nil {
		return err
	}
	if err := p.evaluate(touched, causes); err != nil {
		return err
	}
	return p.leaveGone(gone)
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
