package audiences

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/tidwall/gjson"

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
			props = properties(e.Raw, p.s.props)
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
	dirtyKeys := make([]string, 0, len(dirty))
	for k := range dirty {
		dirtyKeys = append(dirtyKeys, k)
	}
	touched = dedupe(append(touched, dirtyKeys...))
	causes := make(map[string]cause, len(touched))
	for _, k := range touched {
		// A matching event of the batch, else the event the profile
		// follower says changed the profile.
		m := lastOf[k]
		if m == "" {
			m = dirty[k]
		}
		if m == "" {
			m = "profile"
		}
		causes[k] = cause{message: m, at: p.now}
	}
	p.deltas = deltas
	if err := p.evaluate(touched, causes); err != nil {
		return err
	}
	return p.leaveGone(dirtyKeys)
}

// properties decodes, of an event's properties, those named in keys (all
// of them with keys nil), numbers kept exact; nil when the event has no
// properties object. gjson finds them without decoding the rest: an event
// carries a kilobyte of context and padding no where clause reads, and the
// follower does this for every event a where clause counts. As with
// encoding/json, the last of duplicate keys wins.
func properties(raw []byte, keys map[string]bool) map[string]any {
	var props gjson.Result
	gjson.ParseBytes(raw).ForEach(func(k, v gjson.Result) bool {
		if k.Str == "properties" {
			props = v
		}
		return true
	})
	if !props.IsObject() {
		return nil
	}
	out := map[string]any{}
	props.ForEach(func(k, v gjson.Result) bool {
		if keys != nil && !keys[k.Str] {
			return true
		}
		switch {
		case v.Type == gjson.String && !strings.Contains(v.Raw, `\`):
			out[k.Str] = v.Str
		case v.Type == gjson.Number:
			out[k.Str] = json.Number(v.Raw)
		case v.Type == gjson.True || v.Type == gjson.False:
			out[k.Str] = v.Bool()
		case v.Type == gjson.Null:
			out[k.Str] = nil
		default: // objects, arrays, escaped strings: exactly as everywhere else
			if val, err := decodeValue([]byte(v.Raw)); err == nil {
				out[k.Str] = val
			}
		}
		return true
	})
	return out
}

// propKeys is the top-level property keys where clauses of leaves look at:
// each path, and its head before the first dot (a dotted path may name a
// key with dots or reach into an object).
func propKeys(leaves map[string]*Performed) map[string]bool {
	out := map[string]bool{}
	for _, p := range leaves {
		for _, w := range p.Where {
			head, _, _ := strings.Cut(w.Path, ".")
			out[w.Path], out[head] = true, true
		}
	}
	return out
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
	var missingLeaves []string
	for k := range p.deltas {
		if _, ok := byKey[k]; !ok {
			missing[k.id.kind] = append(missing[k.id.kind], k.id.value)
			missingLeaves = append(missingLeaves, k.leaf)
		}
	}
	for kind, values := range missing {
		rows, err := p.tx.LeafStates(missingLeaves, kind, values)
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
