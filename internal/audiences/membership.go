package audiences

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// TimerKind names the audiences' durable timers: one per profile, due when
// its earliest answer would change with no new event.
const TimerKind = "audience"

// Source is the events' source of emitted transitions.
const Source = "audiences"

// cause says why profiles are evaluated: the event that touched them, or
// "time" with the instant of a window's edge.
type cause struct {
	message string    // causing event's messageId, or "time", "build"
	at      time.Time // when the change takes effect
}

// pass is one evaluation of profiles inside the audience lock.
type pass struct {
	tx     *store.AudienceTx
	s      *stored
	now    time.Time
	emit   bool // live changes of current versions become events
	build  bool // a build's pass: records only the building versions
	events []store.NewEvent
	hist   []store.HistoryRow
	rows   []store.MemberRow
	timers []store.TimerSet
	// deltas are the batch's matching events, folded into the states as
	// the profiles are loaded (applyEvents).
	deltas map[stateKey]*delta
	// lazyTimers: a timer already due no later than the new instant is
	// left as it is (firing early only re-evaluates), so a steady stream
	// of events does not rewrite a timer per profile per batch. Passes
	// that fire timers write theirs exactly.
	lazyTimers bool
	// loaded, when set, are the subjects of the keys evaluate is given,
	// already read (a page read by range).
	loaded      map[string]*Subject
	loadedProfs map[string]store.ProfileRow
	// via maps a preview's leaves not built yet to the built leaves whose
	// states answer them (siblingLeaves).
	via map[string]*Performed
}

// subjects loads what evaluation reads of profiles: their traits and the
// union of their identities' leaf states (with the batch's deltas added).
func (p *pass) subjects(keys []string) (map[string]*Subject, map[string]store.ProfileRow, error) {
	profs, err := p.tx.Profiles(keys)
	if err != nil {
		return nil, nil, err
	}
	states, err := p.tx.ProfileLeafStates(keys)
	if err != nil {
		return nil, nil, err
	}
	return p.assemble(profs, states)
}

// subjectsPage is subjects for the next page of profiles after a key, read
// by key range (builds, previews); keys are the page's, in order.
func (p *pass) subjectsPage(after string, limit int) ([]string, map[string]*Subject, map[string]store.ProfileRow, error) {
	rows, err := p.tx.ProfilesPage(after, limit)
	if err != nil || len(rows) == 0 {
		return nil, nil, nil, err
	}
	keys := make([]string, len(rows))
	profs := make(map[string]store.ProfileRow, len(rows))
	for i, r := range rows {
		keys[i], profs[r.Key] = r.Key, r
	}
	states, err := p.tx.LeafStatesInRange(after, keys[len(keys)-1])
	if err != nil {
		return nil, nil, nil, err
	}
	subs, profs, err := p.assemble(profs, states)
	return keys, subs, profs, err
}

func (p *pass) assemble(profs map[string]store.ProfileRow, states []store.ProfileLeafState) (map[string]*Subject, map[string]store.ProfileRow, error) {
	leaves := p.s.leaves()
	byKey := make(map[stateKey]*LeafState, len(states))
	owner := make(map[stateKey]string, len(states))
	for _, st := range states {
		if leaves[st.LeafID] == nil {
			continue
		}
		k := stateKey{st.LeafID, identity{st.Kind, st.Value}}
		byKey[k], owner[k] = decodeState(st.State), st.ProfileKey
	}
	if err := p.addDeltas(byKey, owner); err != nil {
		return nil, nil, err
	}
	subs := make(map[string]*Subject, len(profs))
	for k, pr := range profs {
		subs[k] = &Subject{Key: k, UserID: pr.UserID, AnonymousID: pr.AnonymousID, Traits: profileTraits(pr.Doc), States: map[string]*LeafState{}}
	}
	for k, st := range byKey {
		sub := subs[owner[k]]
		if sub == nil {
			continue
		}
		leaf := leaves[k.leaf]
		acc := sub.States[k.leaf]
		if acc == nil {
			acc = &LeafState{}
			sub.States[k.leaf] = acc
		}
		acc.Union(st, leaf.Keep())
	}
	return subs, profs, nil
}

// evaluate answers every audience for profiles and records what changed.
func (p *pass) evaluate(keys []string, causes map[string]cause) error {
	if len(keys) == 0 || p.s.empty() {
		return nil
	}
	subs, profs := p.loaded, p.loadedProfs
	p.loaded, p.loadedProfs = nil, nil
	if subs == nil {
		var err error
		if subs, profs, err = p.subjects(keys); err != nil {
			return err
		}
	}
	existing, err := p.tx.Memberships(keys)
	if err != nil {
		return err
	}
	old := make(map[memberID]store.MemberRow, len(existing))
	for _, m := range existing {
		old[memberID{m.AudienceKey, m.Version, m.ProfileKey}] = m
	}
	for _, k := range keys {
		sub, ok := subs[k]
		if !ok {
			// Merged away or erased: the caller handles its memberships;
			// its timer has nothing left to do.
			p.timers = append(p.timers, store.TimerSet{Key: k})
			continue
		}
		c := causes[k]
		var next time.Time
		if p.s.cur != nil {
			for key, r := range p.s.cur.Evaluate(sub, p.now) {
				row := p.s.rows[key]
				if row.CurrentVersion == 0 {
					continue // only read by references (fromRows); its build records it
				}
				if !p.build {
					p.record(row, row.CurrentVersion, profs[k], old, r.Member, c, p.emit)
				}
				next = earliest(next, &r.Next)
			}
		}
		if p.s.next != nil {
			for key, r := range p.s.next.Evaluate(sub, p.now) {
				if row := p.s.rows[key]; p.s.newer[key] {
					p.record(row, row.Version, profs[k], old, r.Member, c, false)
					next = earliest(next, &r.Next)
				}
			}
		}
		p.timers = append(p.timers, store.TimerSet{Key: k, Due: next})
	}
	return nil
}

type memberID struct {
	key     string
	version int
	profile string
}

// record notes a membership answer, and a transition when it changed.
func (p *pass) record(a store.AudienceRow, version int, prof store.ProfileRow, old map[memberID]store.MemberRow, member bool, c cause, emit bool) {
	id := memberID{a.Key, version, prof.Key}
	m, had := old[id]
	if had && m.Member == member || !had && !member {
		return
	}
	m = store.MemberRow{AudienceKey: a.Key, Version: version, ProfileKey: prof.Key, Member: member, Since: c.at, Seq: m.Seq + 1}
	old[id] = m
	p.rows = append(p.rows, m)
	p.hist = append(p.hist, store.HistoryRow{AudienceKey: a.Key, Version: version, ProfileKey: prof.Key, UserID: prof.UserID,
		Entered: member, At: c.at, Cause: c.message})
	if emit {
		p.events = append(p.events, transitionEvent(p.tx, a, version, prof, m, p.now))
	}
}

// flush writes what the pass decided; it commits with the transaction.
func (p *pass) flush() error {
	if err := p.tx.PutMembers(p.rows); err != nil {
		return err
	}
	if err := p.tx.AddHistory(p.hist); err != nil {
		return err
	}
	if p.lazyTimers {
		if err := p.trimTimers(); err != nil {
			return err
		}
	}
	if err := p.tx.SetTimers(TimerKind, p.timers); err != nil {
		return err
	}
	if len(p.events) > 0 {
		if err := p.tx.InsertEvents(p.events); err != nil {
			return fmt.Errorf("emit %d audience transitions: %w", len(p.events), err)
		}
	}
	return nil
}

// trimTimers drops from p.timers the writes that change nothing that
// matters: a removal of a timer that does not exist, and a later instant
// for a timer already due sooner (it fires, re-evaluates and sets the
// right instant then).
func (p *pass) trimTimers() error {
	if len(p.timers) == 0 {
		return nil
	}
	// The last word on a key is the one that counts.
	last := make(map[string]int, len(p.timers))
	keys := make([]string, 0, len(p.timers))
	for i, t := range p.timers {
		if _, seen := last[t.Key]; !seen {
			keys = append(keys, t.Key)
		}
		last[t.Key] = i
	}
	have, err := p.tx.TimerDues(TimerKind, keys)
	if err != nil {
		return err
	}
	out := make([]store.TimerSet, 0, len(keys))
	for _, k := range keys {
		t := p.timers[last[k]]
		cur, ok := have[t.Key]
		switch {
		case t.Due.IsZero() && !ok:
		case !t.Due.IsZero() && ok && !cur.After(t.Due):
		default:
			out = append(out, t)
		}
	}
	p.timers = out
	return nil
}

// MessageID is a transition's messageId: the same (audience, version,
// profile, transition number) always gives the same id, so a redo after a
// crash is a duplicate the events table refuses.
func MessageID(key string, version int, profileKey string, seq int) string {
	sum := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(version) + "\x00" + profileKey + "\x00" + strconv.Itoa(seq)))
	return "aud-" + hex.EncodeToString(sum[:16])
}

// transitionEvent is an Audience Entered/Exited track event in Segment's
// Engage shape, for the workspace's own stream.
func transitionEvent(tx *store.AudienceTx, a store.AudienceRow, version int, prof store.ProfileRow, m store.MemberRow, now time.Time) store.NewEvent {
	name := EventExited
	if m.Member {
		name = EventEntered
	}
	mid := MessageID(a.Key, version, prof.Key, m.Seq)
	ev := map[string]any{
		"type": "track", "event": name, "messageId": mid, "timestamp": m.Since.UTC().Format(time.RFC3339Nano),
		"properties": map[string]any{"audience_key": a.Key, "audience_name": a.Name, a.Key: m.Member},
		"context":    map[string]any{"library": map[string]any{"name": "inlet-audiences"}},
	}
	anon := ""
	if prof.UserID != "" {
		ev["userId"] = prof.UserID
	} else {
		anon = prof.AnonymousID
		ev["anonymousId"] = anon
	}
	raw, _ := json.Marshal(ev)
	return store.NewEvent{WorkspaceID: tx.Workspace(), MessageID: mid, Type: "track", Event: name, UserID: prof.UserID,
		AnonymousID: anon, Timestamp: m.Since, ReceivedAt: now, Source: Source, Raw: raw}
}
