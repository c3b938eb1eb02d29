package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// What an instance's timer is for. Its key is "<instance>/<what>/<step id>"
// (step ids hold no "/"), so a timer that fires after its instance moved
// on (a redo after a crash, an outcome racing a timeout) is recognised and
// does nothing: each step runs once.
const (
	whatStart   = "start"   // run the first step (just entered)
	whatWait    = "wait"    // a wait is over
	whatTimeout = "timeout" // a waitFor timed out
	whatThen    = "then"    // a waitFor's event (or audience entry) came
)

func timerKey(id int64, what, stepID string) string {
	return strconv.FormatInt(id, 10) + "/" + what + "/" + stepID
}

func parseTimerKey(k string) (id int64, what, stepID string, ok bool) {
	parts := strings.SplitN(k, "/", 3)
	if len(parts) != 3 {
		return 0, "", "", false
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	return id, parts[1], parts[2], err == nil
}

// clearTimers removes every timer an instance may have at a step.
func clearTimers(id int64, stepID string) []store.TimerSet {
	return []store.TimerSet{{Key: timerKey(id, whatStart, "")}, {Key: timerKey(id, whatWait, stepID)},
		{Key: timerKey(id, whatTimeout, stepID)}, {Key: timerKey(id, whatThen, stepID)}}
}

// fireBatch is how many timers of a workspace move on in one transaction.
const fireBatch = 100

// fireTimers is the timer handler of TimerKind. A batch's timers move
// their instances on in one transaction per workspace and fireBatch
// timers (a broadcast's thousands of start timers cost a commit per
// hundred, not per instance); if that transaction fails, each timer is
// fired again in its own, so one instance's fault holds back no other.
func (e *Engine) fireTimers(ctx context.Context, due []store.Timer) error {
	var errs []error
	byWS := map[uuid.UUID][]store.Timer{}
	for _, t := range due {
		byWS[t.WorkspaceID] = append(byWS[t.WorkspaceID], t)
	}
	for ws, ts := range byWS {
		for i := 0; i < len(ts); i += fireBatch {
			part := ts[i:min(i+fireBatch, len(ts))]
			err := e.fireMany(ctx, ws, part)
			if err == nil {
				continue
			}
			e.opts.Logger.Warn("journey timer batch failed; firing one by one", "timers", len(part), "err", err)
			for _, t := range part {
				if err := e.fire(ctx, t); err != nil {
					errs = append(errs, fmt.Errorf("timer %s: %w", t.Key, err))
				}
			}
		}
	}
	e.Notify() // sends may be queued
	e.timer.Notify()
	return errors.Join(errs...)
}

// firing is one timer's move, with what it reads outside the transaction.
type firing struct {
	t            store.Timer
	id           int64
	what, stepID string
	d            *Definition // nil: the version does not parse; the instance exits
	suppressed   bool
	user         *userData
}

// fire moves one timer's instance on in its own transaction.
func (e *Engine) fire(ctx context.Context, t store.Timer) error {
	id, _, stepID, ok := parseTimerKey(t.Key)
	if !ok {
		return nil
	}
	ws := t.WorkspaceID
	in, err := e.st.JourneyInstanceByID(ctx, ws, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // erased, or its journey deleted
	}
	if err != nil {
		return err
	}
	if in.Status != "active" || in.StepID != stepID {
		return nil
	}
	suppressed, err := profiles.IsSuppressed(ctx, e.st, ws, store.IdentityUser, in.UserID)
	if err != nil {
		return err
	}
	f, err := e.prepare(ctx, t, in, suppressed)
	if err != nil || f == nil {
		return err
	}
	return e.st.JourneyTx(ctx, ws, func(tx *store.JourneyTx) error { return f.apply(tx, map[string]bool{}) })
}

// fireMany moves the instances of one workspace's timers on in one
// transaction, reading instances and suppressions for all at once.
func (e *Engine) fireMany(ctx context.Context, ws uuid.UUID, ts []store.Timer) error {
	ids := make([]int64, 0, len(ts))
	for _, t := range ts {
		if id, _, _, ok := parseTimerKey(t.Key); ok {
			ids = append(ids, id)
		}
	}
	ins, err := e.st.JourneyInstancesByID(ctx, ws, ids)
	if err != nil {
		return err
	}
	hashes := make([]string, 0, len(ins))
	for _, in := range ins {
		hashes = append(hashes, profiles.HashID(store.IdentityUser, in.UserID))
	}
	suppressed, err := e.st.SuppressedAmong(ctx, ws, hashes)
	if err != nil {
		return err
	}
	var fs []*firing
	for _, t := range ts {
		id, _, stepID, ok := parseTimerKey(t.Key)
		in, found := ins[id]
		if !ok || !found || in.Status != "active" || in.StepID != stepID {
			continue // erased, deleted or moved on: spent
		}
		f, err := e.prepare(ctx, t, in, suppressed[profiles.HashID(store.IdentityUser, in.UserID)])
		if err != nil {
			return err
		}
		if f != nil {
			fs = append(fs, f)
		}
	}
	if len(fs) == 0 {
		return nil
	}
	// Instances are locked in id order: two workers' batches never wait
	// on each other in a cycle.
	sort.SliceStable(fs, func(a, b int) bool { return fs[a].id < fs[b].id })
	return e.st.JourneyTx(ctx, ws, func(tx *store.JourneyTx) error {
		enabled := map[string]bool{}
		for _, f := range fs {
			if err := f.apply(tx, enabled); err != nil {
				return fmt.Errorf("timer %s: %w", f.t.Key, err)
			}
		}
		return nil
	})
}

// prepare reads what the instance's next steps need of the user before
// the transaction (a transaction never waits for another connection).
func (e *Engine) prepare(ctx context.Context, t store.Timer, in store.JourneyInstance, suppressed bool) (*firing, error) {
	id, what, stepID, ok := parseTimerKey(t.Key)
	if !ok {
		return nil, nil
	}
	f := &firing{t: t, id: id, what: what, stepID: stepID, suppressed: suppressed}
	d, err := e.version(ctx, t.WorkspaceID, in.JourneyKey, in.Version)
	if err != nil {
		e.opts.Logger.Warn("journey version does not parse; the instance exits", "journey", in.JourneyKey, "version", in.Version, "err", err)
		return f, nil
	}
	f.d = d
	if !suppressed && d.needsUser() {
		if f.user, err = e.loadUser(ctx, t.WorkspaceID, in.UserID, d); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// apply moves the instance on inside tx, if it still is at the timer's
// step; enabled caches the journeys' switches for the transaction.
func (f *firing) apply(tx *store.JourneyTx, enabled map[string]bool) error {
	id, stepID, what, d := f.id, f.stepID, f.what, f.d
	now := time.Now().UTC()
	if d == nil {
		return tx.Move(id, stepID, "exited", now)
	}
	in, err := tx.Instance(id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if in.Status != "active" || in.StepID != stepID || !in.HeldDue.IsZero() {
		return nil // moved on meanwhile: this timer is spent
	}
	on, seen := enabled[in.JourneyKey]
	if !seen {
		if on, err = tx.JourneyEnabled(in.JourneyKey); err != nil {
			return err
		}
		enabled[in.JourneyKey] = on
	}
	if !on {
		return tx.Hold(id, f.t.Key, f.t.DueAt) // released when the journey is enabled again
	}
	if f.suppressed {
		// Erased or suppressed users leave their journeys.
		return tx.Move(id, stepID, "exited", now)
	}
	r := &run{tx: tx, d: d, in: in, user: f.user, now: now}
	var next *Step
	switch s := d.Step(stepID); {
	case what == whatStart && stepID == "":
		if len(d.Steps) > 0 {
			next = d.Steps[0]
		}
	case s == nil:
		return tx.Move(id, stepID, "exited", now)
	case what == whatWait:
		next = d.next(stepID)
	case what == whatTimeout && s.WaitFor != nil:
		next = d.into(s.WaitFor.OnTimeout, s)
	case what == whatThen && s.WaitFor != nil:
		next = d.into(s.WaitFor.Then, s)
		// Its timeout timer was removed with the outcome's scheduling.
	default:
		return nil
	}
	if stepID != "" {
		if err := tx.Passed(d.Key, id, stepID); err != nil {
			return err
		}
	}
	return r.from(next, stepID)
}

// into is the first step of a nested list, or what follows the step
// holding it when the list is empty.
func (d *Definition) into(list []*Step, holder *Step) *Step {
	if len(list) > 0 {
		return list[0]
	}
	return d.next(holder.ID)
}

// run advances one instance inside one transaction.
type run struct {
	tx   *store.JourneyTx
	d    *Definition
	in   store.JourneyInstance
	user *userData
	now  time.Time
}

// from runs steps from s on: email and webhook steps queue their sends,
// a branch picks its list, a wait or waitFor stops the instance there
// with its timer; the end of the tree completes it. last is the step the
// instance was at.
func (r *run) from(s *Step, last string) error {
	id := r.in.ID
	for s != nil {
		switch s.Kind() {
		case KindWait:
			due, ok := r.waitUntil(s.Wait)
			if ok && due.After(r.now) {
				if err := r.tx.Move(id, s.ID, "active", r.now); err != nil {
					return err
				}
				return r.tx.SetTimers(TimerKind, []store.TimerSet{{Key: timerKey(id, whatWait, s.ID), Due: due}})
			}
			// An until in the past (or a trait without a time) waits not at all.
		case KindWaitFor:
			w := s.WaitFor
			if w.Audience != "" && r.user.member(w.Audience) {
				if err := r.tx.Passed(r.d.Key, id, s.ID); err != nil {
					return err
				}
				last, s = s.ID, r.d.into(w.Then, s)
				continue
			}
			if err := r.tx.Move(id, s.ID, "active", r.now); err != nil {
				return err
			}
			return r.tx.SetTimers(TimerKind, []store.TimerSet{{Key: timerKey(id, whatTimeout, s.ID), Due: r.now.Add(w.timeout)}})
		case KindEmail:
			if err := r.tx.Queue(store.QueuedMessage{SendKey: fmt.Sprintf("%s.%d.%s", r.d.Key, id, s.ID), InstanceID: id,
				JourneyKey: r.d.Key, StepID: s.ID, UserID: r.in.UserID, Template: s.Email.Template, Group: s.Email.Group}, r.now); err != nil {
				return err
			}
		case KindWebhook:
			if err := r.webhook(s); err != nil {
				return err
			}
		case KindBranch:
			list := s.Branch.Else
			if r.user.holds(s.Branch, r.now) {
				list = s.Branch.Then
			}
			if err := r.tx.Passed(r.d.Key, id, s.ID); err != nil {
				return err
			}
			last, s = s.ID, r.d.into(list, s)
			continue
		}
		if err := r.tx.Passed(r.d.Key, id, s.ID); err != nil {
			return err
		}
		last, s = s.ID, r.d.next(s.ID)
	}
	return r.tx.Move(id, last, "completed", r.now)
}

// waitUntil is when a wait ends; ok false when an until trait holds no time.
func (r *run) waitUntil(w *Wait) (time.Time, bool) {
	if w.Until == "" {
		return r.now.Add(w.Duration), true
	}
	v, ok := lookup(r.user.traits(), w.Until)
	if !ok {
		return time.Time{}, false
	}
	switch x := v.(type) {
	case string:
		t, err := time.Parse(time.RFC3339Nano, x)
		return t.UTC(), err == nil
	case json.Number:
		// Seconds since the epoch (milliseconds when that large).
		n, err := x.Int64()
		if err != nil {
			return time.Time{}, false
		}
		if n > 1e11 {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

// webhook queues a webhook step's post and schedules its first attempt now.
func (r *run) webhook(s *Step) error {
	var event any = map[string]any{}
	if r.in.Event != "" {
		_ = json.Unmarshal([]byte(r.in.Event), &event)
	}
	body, err := json.Marshal(map[string]any{"journey": r.d.Key, "step": s.ID,
		"user": map[string]any{"userId": r.in.UserID, "traits": r.user.rawTraits()}, "event": event})
	if err != nil {
		return err
	}
	key := fmt.Sprintf("%s.%d.%s", r.d.Key, r.in.ID, s.ID)
	if err := r.tx.QueueWebhook(store.JourneyWebhook{SendKey: key, InstanceID: r.in.ID, JourneyKey: r.d.Key, StepID: s.ID,
		UserID: r.in.UserID, Destination: s.Webhook.Destination, Body: string(body)}, r.now); err != nil {
		return err
	}
	return r.tx.SetTimers(WebhookTimerKind, []store.TimerSet{{Key: key, Due: r.now}})
}

// needsUser says whether running the journey reads the user's profile
// (a branch, a wait until a trait, a webhook's body).
func (d *Definition) needsUser() bool {
	need := false
	d.Walk(func(s *Step, _ string, _ int) {
		need = need || s.Branch != nil || s.Webhook != nil || s.WaitFor != nil && s.WaitFor.Audience != "" || s.Wait != nil && s.Wait.Until != ""
	})
	return need
}
