package journeys

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/timers"
)

// Timer kinds of the engine (internal/timers).
const (
	TimerKind        = "journey"         // an instance's start, wait, waitFor timeout or waitFor outcome
	WebhookTimerKind = "journey_webhook" // one attempt of a webhook step
	// BroadcastTimerKind starts a broadcast's members: thousands due at
	// once, fired only when no other timer is due, so other journeys'
	// waits keep their 2 s while a newsletter goes out.
	BroadcastTimerKind = "journey_broadcast"
)

// Options tune the engine; zero values take the defaults.
type Options struct {
	Logger   *slog.Logger
	RetryFor time.Duration // MESSAGE_RETRY_FOR
	Rate     int           // EMAIL_RATE per workspace per second; 0: none
	Poll     time.Duration // how often it looks for events and sends without being woken
	// RetryBase is the wait before the first retry of a send the server
	// refused for now (doubling after, at most an hour); 30 s by default.
	RetryBase time.Duration
	// BehindProfiles makes the engine handle only events the profile
	// follower has applied (PROFILES=on), so a send reads the traits the
	// triggering event and those before it set (the address above all).
	BehindProfiles bool
	// Timers is the process's timer worker (one per process claims every
	// kind); the engine registers its kinds on it. Nil: the engine runs
	// its own, which then must be the only worker of the process.
	Timers *timers.Worker
	// Webhooks posts webhook steps; nil: a sender of its own.
	Webhooks *delivery.Sender
	// WebhookPolicy is the retry schedule of webhook steps (the
	// destinations' one: DESTINATION_RETRY_*).
	WebhookPolicy delivery.Policy
	// BroadcastBatch is how many members a broadcast enters per
	// transaction; 500 by default.
	BroadcastBatch int
}

// Engine follows the event feed of workspaces with enabled journeys,
// enters instances, advances them on durable timers and sends what they
// queued.
type Engine struct {
	st    *store.Store
	email *email.Service
	opts  Options
	wake  chan struct{}
	stop  context.CancelFunc
	done  sync.WaitGroup
	send  *sender
	timer *timers.Worker
	owned bool // the timer worker is the engine's own
	hooks *delivery.Sender

	mu   sync.Mutex
	defs map[string]*Definition // parsed versions by workspace, key and version
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
	if opts.BroadcastBatch <= 0 {
		opts.BroadcastBatch = 500
	}
	e := &Engine{st: st, email: es, opts: opts, wake: make(chan struct{}, 1), timer: opts.Timers, hooks: opts.Webhooks,
		defs: map[string]*Definition{}}
	if e.timer == nil {
		e.timer, e.owned = timers.New(st, timers.Options{Logger: opts.Logger, Poll: min(opts.Poll, 250*time.Millisecond)}), true
	}
	if e.hooks == nil {
		e.hooks = delivery.NewSender(nil, 10*time.Second, 4, "journeys")
	}
	e.timer.Register(TimerKind, e.fireTimers)
	e.timer.Register(WebhookTimerKind, e.fireWebhooks)
	e.timer.RegisterBulk(BroadcastTimerKind, e.fireTimers)
	e.send = newSender(e)
	return e
}

// wakeGap is the least time between two passes woken by commits: a
// twentieth of a second on the way to an email, for far fewer feed reads.
const wakeGap = 50 * time.Millisecond

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
	if e.owned {
		e.timer.Start(ctx)
	}
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
				// Every commit of events wakes the engine; under a steady
				// stream one pass per wakeGap takes them in one feed read
				// and one transaction instead of one per commit.
				select {
				case <-ctx.Done():
				case <-time.After(wakeGap):
				}
			}
		}
	}()
}

// Close stops the loop (and the engine's own timer worker) and waits for them.
func (e *Engine) Close() {
	if e.stop != nil {
		e.stop()
	}
	e.done.Wait()
	if e.owned {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.timer.Close(ctx)
	}
}

// Pass does one round: follow the feeds (entries, waitFor outcomes,
// exits), move broadcasts on, release instances held while their journey
// was disabled, and send due messages. Waits fire on the timer worker.
func (e *Engine) Pass(ctx context.Context) error {
	if err := e.legacy(ctx); err != nil {
		return err
	}
	wss, err := e.st.WorkspacesWithJourneys(ctx)
	if err != nil {
		return err
	}
	for _, ws := range wss {
		js, err := e.enabled(ctx, ws)
		if err != nil {
			return err
		}
		if err := e.follow(ctx, ws, js); err != nil {
			return fmt.Errorf("follow events of %s: %w", ws, err)
		}
		if err := e.broadcasts(ctx, ws, js); err != nil {
			return fmt.Errorf("broadcasts of %s: %w", ws, err)
		}
		if err := e.release(ctx, ws, js); err != nil {
			return fmt.Errorf("release held instances of %s: %w", ws, err)
		}
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

// journey is a parsed stored definition; older are its earlier versions
// (running instances may still follow them).
type journey struct {
	def     *Definition
	version int
	older   []*Definition
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
		d, err := e.parsed(ws, r.Key, r.Version, func() (string, error) { return r.Definition, nil })
		if err != nil {
			e.opts.Logger.Warn("stored journey does not parse", "journey", r.Key, "err", err)
			continue
		}
		j := journey{def: d, version: r.Version}
		for v := 1; v < r.Version; v++ {
			if od, err := e.version(ctx, ws, r.Key, v); err == nil {
				j.older = append(j.older, od)
			}
		}
		out = append(out, j)
	}
	return out, nil
}

// parsed is a journey version's definition, parsed once per process
// (versions never change once stored).
func (e *Engine) parsed(ws uuid.UUID, key string, version int, raw func() (string, error)) (*Definition, error) {
	k := fmt.Sprintf("%s\x00%s\x00%d", ws, key, version)
	e.mu.Lock()
	d := e.defs[k]
	e.mu.Unlock()
	if d != nil {
		return d, nil
	}
	text, err := raw()
	if err != nil {
		return nil, err
	}
	if d, err = Parse([]byte(text)); err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.defs) > 10000 {
		clear(e.defs) // bounded: a cache, rebuilt on demand
	}
	e.defs[k] = d
	e.mu.Unlock()
	return d, nil
}

// version reads the definition an instance follows.
func (e *Engine) version(ctx context.Context, ws uuid.UUID, key string, version int) (*Definition, error) {
	return e.parsed(ws, key, version, func() (string, error) { return e.st.JourneyVersion(ctx, ws, key, version) })
}

// legacy moves waits made before timers (wake_at) onto timers: such a
// version has only top-level steps, so its index names the step.
func (e *Engine) legacy(ctx context.Context) error {
	ws, err := e.st.LegacyWaits(ctx, 500)
	if err != nil || len(ws) == 0 {
		return err
	}
	for _, w := range ws {
		d, err := e.version(ctx, w.WorkspaceID, w.JourneyKey, w.Version)
		stepID := ""
		if err == nil && w.Step < len(d.Steps) {
			stepID = d.Steps[w.Step].ID
		}
		err = e.st.JourneyTx(ctx, w.WorkspaceID, func(tx *store.JourneyTx) error {
			if stepID == "" {
				return tx.Move(w.ID, "", "exited", time.Now().UTC())
			}
			if err := tx.Move(w.ID, stepID, "active", time.Now().UTC()); err != nil {
				return err
			}
			return tx.SetTimers(TimerKind, []store.TimerSet{{Key: timerKey(w.ID, whatWait, stepID), Due: w.WakeAt}})
		})
		if err != nil {
			return fmt.Errorf("move legacy wait %d onto a timer: %w", w.ID, err)
		}
	}
	e.timer.Notify()
	return nil
}
