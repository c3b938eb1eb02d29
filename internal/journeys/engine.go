package journeys

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/store"
)

// Options tune the engine; zero values take the defaults.
type Options struct {
	Logger   *slog.Logger
	RetryFor time.Duration // MESSAGE_RETRY_FOR
	Rate     int           // EMAIL_RATE per workspace per second; 0: none
	Poll     time.Duration // how often it looks for events, waits and sends without being woken
	// RetryBase is the wait before the first retry of a send the server
	// refused for now (doubling after, at most an hour); 30 s by default.
	RetryBase time.Duration
	// BehindProfiles makes the engine handle only events the profile
	// follower has applied (PROFILES=on), so a send reads the traits the
	// triggering event and those before it set (the address above all).
	BehindProfiles bool
}

// Engine follows the event feed of workspaces with enabled journeys,
// enters and advances instances, and sends what they queued.
type Engine struct {
	st    *store.Store
	email *email.Service
	opts  Options
	wake  chan struct{}
	stop  context.CancelFunc
	done  sync.WaitGroup
	send  *sender
}

// New builds the engine; Start runs it.
func New(st *store.Store, es *email.Service, opts Options) *Engine {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RetryFor == 0 {
		opts.RetryFor = 24 * time.Hour
	}
	if opts.RetryBase == 0 {
		opts.RetryBase = 30 * time.Second
	}
	if opts.Poll == 0 {
		opts.Poll = 250 * time.Millisecond
	}
	e := &Engine{st: st, email: es, opts: opts, wake: make(chan struct{}, 1)}
	e.send = newSender(e)
	return e
}

// Notify wakes the engine (after a commit of events, an edit).
func (e *Engine) Notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the loop until Close.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.stop = context.WithCancel(ctx)
	e.done.Add(1)
	go func() {
		defer e.done.Done()
		t := time.NewTicker(e.opts.Poll)
		defer t.Stop()
		for {
			if err := e.Pass(ctx); err != nil && ctx.Err() == nil {
				e.opts.Logger.Warn("journeys pass failed", "err", err)
			}
			select {
			case <-ctx.Done():
				e.send.close()
				return
			case <-t.C:
			case <-e.wake:
			}
		}
	}()
}

// Close stops the loop and waits for it.
func (e *Engine) Close() {
	if e.stop != nil {
		e.stop()
	}
	e.done.Wait()
}

// Pass does one round: follow the feeds, fire due waits, send due messages.
func (e *Engine) Pass(ctx context.Context) error {
	wss, err := e.st.WorkspacesWithEnabledJourneys(ctx)
	if err != nil {
		return err
	}
	for _, ws := range wss {
		if err := e.follow(ctx, ws); err != nil {
			return fmt.Errorf("follow events of %s: %w", ws, err)
		}
	}
	if err := e.fireDue(ctx); err != nil {
		return err
	}
	return e.send.pass(ctx)
}

// Prime makes the workspace's follower start at the feed's head if it has
// no position yet: a journey sees the events that arrive after it is made.
func Prime(ctx context.Context, st *store.Store, ws uuid.UUID) error {
	if _, ok, err := st.JourneyCursor(ctx, ws); err != nil || ok {
		return err
	}
	head, err := st.FeedHead(ctx, ws)
	if err != nil {
		return err
	}
	return st.JourneyTx(ctx, ws, func(tx *store.JourneyTx) error { return tx.SetCursor(head) })
}

// journey is a parsed stored definition.
type journey struct {
	def     *Definition
	version int
}

func (e *Engine) enabled(ctx context.Context, ws uuid.UUID) ([]journey, error) {
	rows, err := e.st.Journeys(ctx, ws)
	if err != nil {
		return nil, err
	}
	var out []journey
	for _, r := range rows {
		if !r.Enabled {
			continue
		}
		d, err := Parse([]byte(r.Definition))
		if err != nil {
			e.opts.Logger.Warn("stored journey does not parse", "journey", r.Key, "err", err)
			continue
		}
		out = append(out, journey{def: d, version: r.Version})
	}
	return out, nil
}

// follow reads the workspace's new events and enters the journeys they
// trigger; instances, their first steps, their sends and the cursor
// commit together.
func (e *Engine) follow(ctx context.Context, ws uuid.UUID) error {
	if err := Prime(ctx, e.st, ws); err != nil {
		return err
	}
	for {
		cur, _, err := e.st.JourneyCursor(ctx, ws)
		if err != nil {
			return err
		}
		evs, err := e.st.ReadFeed(ctx, ws, cur, 500)
		if err != nil || len(evs) == 0 {
			return err
		}
		full := len(evs) == 500
		if e.opts.BehindProfiles {
			pc, err := e.st.ProfileCursor(ctx, ws)
			if err != nil {
				return err
			}
			n := 0
			for n < len(evs) && pc.Reached(evs[n].Cursor) {
				n++
			}
			if evs, full = evs[:n], full && n == len(evs); len(evs) == 0 {
				return nil
			}
		}
		js, err := e.enabled(ctx, ws)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		err = e.st.JourneyTx(ctx, ws, func(tx *store.JourneyTx) error {
			for _, ev := range evs {
				if ev.Type != "track" || ev.UserID == "" {
					continue
				}
				for _, j := range js {
					if j.def.Trigger.Event == nil || j.def.Trigger.Event.Event != ev.Event {
						continue
					}
					id, err := tx.Enter(j.def.Key, j.version, ev.UserID, j.def.Reentry, ev.MessageID, eventJSON(ev), now)
					if err != nil {
						return err
					}
					if id != 0 {
						if err := advance(tx, j.def, id, ev.UserID, 0, now); err != nil {
							return err
						}
					}
				}
			}
			return tx.SetCursor(evs[len(evs)-1].Cursor)
		})
		if err != nil {
			return err
		}
		if !full {
			return nil
		}
	}
}

// eventJSON is the template's event variable: {event, properties}.
func eventJSON(ev store.FeedEvent) string {
	var raw struct {
		Properties map[string]any `json:"properties"`
	}
	_ = json.Unmarshal(ev.Raw, &raw)
	if raw.Properties == nil {
		raw.Properties = map[string]any{}
	}
	b, _ := json.Marshal(map[string]any{"event": ev.Event, "messageId": ev.MessageID, "properties": raw.Properties})
	return string(b)
}

// advance runs an instance from step from: emails are queued, a wait
// stops it there with its wake time, the end of the list completes it.
func advance(tx *store.JourneyTx, d *Definition, id int64, userID string, from int, now time.Time) error {
	for i := from; i < len(d.Steps); i++ {
		s := d.Steps[i]
		switch {
		case s.Wait != nil && s.Wait.Duration > 0:
			return tx.Move(id, i, "active", now.Add(s.Wait.Duration), now)
		case s.Email != nil:
			if err := tx.Queue(store.QueuedMessage{SendKey: fmt.Sprintf("%s.%d.%s", d.Key, id, s.ID), InstanceID: id,
				JourneyKey: d.Key, StepID: s.ID, UserID: userID, Template: s.Email.Template, Group: s.Email.Group}, now); err != nil {
				return err
			}
		}
	}
	return tx.Move(id, len(d.Steps), "completed", time.Time{}, now)
}

// fireDue continues the instances whose wait is over, each on the version
// it started on.
func (e *Engine) fireDue(ctx context.Context) error {
	defs := map[string]*Definition{}
	for {
		n, err := e.st.DueInstances(ctx, time.Now().UTC(), 100, func(tx *store.JourneyTx, in store.JourneyInstance) error {
			k := fmt.Sprintf("%s\x00%d", in.JourneyKey, in.Version)
			d := defs[k]
			if d == nil {
				raw, err := tx.Version(in.JourneyKey, in.Version)
				if err != nil {
					return err
				}
				if d, err = Parse([]byte(raw)); err != nil {
					return tx.Move(in.ID, in.Step, "exited", time.Time{}, time.Now().UTC())
				}
				defs[k] = d
			}
			return advance(tx, d, in.ID, in.UserID, in.Step+1, time.Now().UTC())
		})
		if err != nil || n < 100 {
			return err
		}
	}
}
