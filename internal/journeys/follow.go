package journeys

import (
	"context"
	"encoding/json"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/store"
)

// follow reads the workspace's new events: they enter journeys (event and
// audienceEntered triggers), resolve waitFor steps and end instances
// (exitOn). Entries, outcomes, exits and the cursor commit together; the
// cursor row is locked meanwhile, so several engines take turns on a
// workspace and handle each event once.
func (e *Engine) follow(ctx context.Context, ws uuid.UUID, js []journey) error {
	if err := Prime(ctx, e.st, ws); err != nil {
		return err
	}
	ix := newIndex(js)
	for {
		cur, _, err := e.st.JourneyCursor(ctx, ws)
		if err != nil {
			return err
		}
		need := ix.need
		if e.opts.BehindProfiles {
			// Only what the profile follower has applied: read no further.
			pc, err := e.st.ProfileCursor(ctx, ws)
			if err != nil {
				return err
			}
			if cur.Reached(pc) {
				return nil
			}
			need.UpTo = &pc
		}
		evs, err := e.st.ReadFeedFor(ctx, ws, cur, 500, need)
		if err != nil || len(evs) == 0 {
			return err
		}
		full := len(evs) == 500
		now := time.Now().UTC()
		moved, scheduled := false, false
		err = e.st.JourneyTx(ctx, ws, func(tx *store.JourneyTx) error {
			if c, _, err := tx.LockCursor(); err != nil {
				return err
			} else if c != cur {
				moved = true // another engine handled these events meanwhile
				return nil
			}
			for _, ev := range evs {
				did, err := e.event(ctx, tx, ws, ix, ev, now)
				if err != nil {
					return err
				}
				scheduled = scheduled || did
			}
			return tx.SetCursor(evs[len(evs)-1].Cursor)
		})
		if err != nil {
			return err
		}
		if scheduled {
			e.timer.Notify()
		}
		if !full && !moved {
			return nil
		}
	}
}

// index says which enabled journeys an event may concern.
type index struct {
	js       []journey
	byEvent  map[string][]journey // event triggers by event name
	byAud    map[string][]journey // audienceEntered triggers by audience key
	watchers map[string][]string  // event name → journeys waiting for or exiting on it
	audWait  []string             // journeys with a waitFor audience
	// need reads the JSON of just the events named above (and Audience
	// Entered): the follower sees every event, most of which no journey
	// looks at, and their bytes are most of a feed read.
	need store.FeedNeed
}

func newIndex(js []journey) *index {
	ix := &index{js: js, byEvent: map[string][]journey{}, byAud: map[string][]journey{}, watchers: map[string][]string{}}
	for _, j := range js {
		d := j.def
		switch {
		case d.Trigger.Event != nil:
			ix.byEvent[d.Trigger.Event.Event] = append(ix.byEvent[d.Trigger.Event.Event], j)
		case d.Trigger.AudienceEntered != "":
			ix.byAud[d.Trigger.AudienceEntered] = append(ix.byAud[d.Trigger.AudienceEntered], j)
		}
		// What running instances watch, on this version or an older one.
		names := map[string]bool{}
		audWait := false
		for _, v := range append([]*Definition{d}, j.older...) {
			if v.ExitOn != nil {
				names[v.ExitOn.Event.Event] = true
			}
			v.Walk(func(s *Step, _ string, _ int) {
				if s.WaitFor != nil && s.WaitFor.Event != nil {
					names[s.WaitFor.Event.Event] = true
				}
				audWait = audWait || s.WaitFor != nil && s.WaitFor.Audience != ""
			})
		}
		for n := range names {
			ix.watchers[n] = append(ix.watchers[n], d.Key)
		}
		if audWait {
			ix.audWait = append(ix.audWait, d.Key)
		}
	}
	names := map[string]bool{audiences.EventEntered: true}
	for n := range ix.byEvent {
		names[n] = true
	}
	for n := range ix.watchers {
		names[n] = true
	}
	for n := range names {
		ix.need.Names = append(ix.need.Names, n)
	}
	sort.Strings(ix.need.Names)
	return ix
}

// event handles one event in the follower's transaction; it reports
// whether it scheduled a timer.
func (e *Engine) event(ctx context.Context, tx *store.JourneyTx, ws uuid.UUID, ix *index, ev store.FeedEvent, now time.Time) (bool, error) {
	if ev.Type != "track" || ev.UserID == "" {
		return false, nil
	}
	audience := ""
	if ev.Event == audiences.EventEntered && ev.Source == audiences.Source {
		audience = "?" // decoded below
	}
	enter := ix.byEvent[ev.Event]
	watchers := ix.watchers[ev.Event]
	if audience != "" {
		watchers = append(watchers[:len(watchers):len(watchers)], ix.audWait...)
	}
	if len(enter) == 0 && len(watchers) == 0 && audience == "" {
		return false, nil // most events: nothing to decode
	}
	props := properties(ev.Raw)
	ts := ev.ReceivedAt
	if ev.Timestamp != nil {
		ts = *ev.Timestamp
	}
	if audience != "" {
		audience, _ = props["audience_key"].(string)
		enter = append(enter[:len(enter):len(enter)], ix.byAud[audience]...)
	}
	did := false
	// Waiting instances first: an event that both ends a wait and enters
	// the journey again moves the old instance on before the new one starts.
	if len(watchers) > 0 {
		ins, err := tx.ActiveInstances(ev.UserID, watchers)
		if err != nil {
			return false, err
		}
		for _, in := range ins {
			// Read in the transaction: it never waits for a second connection.
			d, err := e.parsed(ws, in.JourneyKey, in.Version, func() (string, error) { return tx.Version(in.JourneyKey, in.Version) })
			if err != nil {
				e.opts.Logger.Warn("journey version does not parse", "journey", in.JourneyKey, "version", in.Version, "err", err)
				continue
			}
			ok, err := e.watch(tx, d, in, ev, props, ts, audience, now)
			if err != nil {
				return false, err
			}
			did = did || ok
		}
	}
	for _, j := range enter {
		if t := j.def.Trigger.Event; t != nil && !t.leaf.Matches(props, ts) {
			continue
		}
		ok, err := e.enter(tx, j, TimerKind, ev.UserID, ev.MessageID, eventJSON(ev.Event, ev.MessageID, props), props, now)
		if err != nil {
			return false, err
		}
		did = did || ok
	}
	return did, nil
}

// watch applies an event to one running instance: exitOn ends it; a
// waitFor it waits in is resolved (its timeout timer removed, its outcome
// scheduled at once).
func (e *Engine) watch(tx *store.JourneyTx, d *Definition, in store.JourneyInstance, ev store.FeedEvent, props map[string]any, ts time.Time,
	audience string, now time.Time) (bool, error) {
	trigger := triggerProps(in.Event)
	if x := d.ExitOn; x != nil && x.Event.Event == ev.Event && x.Event.leaf.Matches(props, ts) && sameValues(x.Event.Match, props, trigger) {
		if err := tx.Move(in.ID, in.StepID, "exited", now); err != nil {
			return false, err
		}
		return false, tx.SetTimers(TimerKind, clearTimers(in.ID, in.StepID))
	}
	s := d.Step(in.StepID)
	if s == nil || s.WaitFor == nil || !in.HeldDue.IsZero() {
		return false, nil
	}
	w := s.WaitFor
	switch {
	case w.Event != nil:
		if w.Event.Event != ev.Event || !w.Event.leaf.Matches(props, ts) || !sameValues(w.Event.Match, props, trigger) {
			return false, nil
		}
	case w.Audience == "" || w.Audience != audience:
		return false, nil
	}
	return true, tx.SetTimers(TimerKind, []store.TimerSet{
		{Key: timerKey(in.ID, whatTimeout, s.ID)}, {Key: timerKey(in.ID, whatThen, s.ID), Due: now}})
}

// enter makes an instance (when reentry allows) and schedules its start
// as a timer of kind (TimerKind, or BroadcastTimerKind for a broadcast's
// members, fired after every other due timer).
func (e *Engine) enter(tx *store.JourneyTx, j journey, kind, userID, triggerID, event string, props map[string]any, now time.Time) (bool, error) {
	id, err := tx.Enter(store.NewInstance{Journey: j.def.Key, Version: j.version, UserID: userID, Reentry: j.def.Reentry,
		TriggerID: triggerID, Event: event, MatchKey: matchKey(j.def.MatchProperties(), props)}, now)
	if err != nil || id == 0 {
		return false, err
	}
	return true, tx.SetTimers(kind, []store.TimerSet{{Key: timerKey(id, whatStart, ""), Due: now}})
}

// properties decodes an event's properties (numbers exact), empty when none.
func properties(raw []byte) map[string]any {
	m := audiences.DecodeProps(raw)
	if p, ok := m["properties"].(map[string]any); ok {
		return p
	}
	return map[string]any{}
}

// triggerProps are the properties of an instance's triggering event.
func triggerProps(event string) map[string]any {
	return properties([]byte(event))
}

// eventJSON is the template's event variable: {event, messageId, properties}.
func eventJSON(name, messageID string, props map[string]any) string {
	b, _ := json.Marshal(map[string]any{"event": name, "messageId": messageID, "properties": props})
	return string(b)
}

// lookup finds a property by name, then by dotted path.
func lookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	cur := any(m)
	start := 0
	for i := 0; i <= len(path); i++ {
		if i < len(path) && path[i] != '.' {
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[path[start:i]]; !ok {
			return nil, false
		}
		start = i + 1
	}
	return cur, true
}

// sameValues says whether every named property is present in both and
// equal (as JSON).
func sameValues(names []string, a, b map[string]any) bool {
	for _, n := range names {
		x, ok1 := lookup(a, n)
		y, ok2 := lookup(b, n)
		if !ok1 || !ok2 {
			return false
		}
		jx, _ := json.Marshal(x)
		jy, _ := json.Marshal(y)
		if string(jx) != string(jy) {
			return false
		}
	}
	return true
}

// matchKey is the triggering event's values of the journey's match
// properties, as JSON; "" when the journey has none.
func matchKey(names []string, props map[string]any) string {
	if len(names) == 0 {
		return ""
	}
	vals := make([]any, len(names))
	for i, n := range names {
		vals[i], _ = lookup(props, n)
	}
	b, _ := json.Marshal(vals)
	return string(b)
}
