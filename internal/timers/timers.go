// Package timers fires durable timers kept in the database: a timer is a
// row (kind, workspace, key, due) that survives restarts, is claimed by one
// instance at a time (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
// writer) and is removed only after its handler succeeded. Handlers must be
// idempotent: a crash between a handler's commit and the removal fires the
// timer again. Audiences use it for window edges, journeys for waits and
// webhook posts.
package timers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// Handler fires a batch of due timers of its kind. Returning an error
// leaves them to be claimed again once their lease ends.
type Handler func(ctx context.Context, due []store.Timer) error

// Options tune a Worker; the zero value gets the defaults.
type Options struct {
	// Poll is how often the worker looks for due timers: with 250 ms a timer
	// fires well within 2 s of its instant. Default 250 ms.
	Poll time.Duration
	// Lease is how long a claim holds before another worker may take the
	// timer (its handler having died). Default 30 s.
	Lease  time.Duration
	Batch  int // timers claimed at once, default 200
	Logger *slog.Logger
	Now    func() time.Time // for tests; default time.Now
}

// Worker claims due timers and hands them to their kind's handler.
type Worker struct {
	st       *store.Store
	opts     Options
	mu       sync.Mutex
	handlers map[string]Handler
	bulk     map[string]bool // kinds claimed only with the room other kinds leave
	wake     chan struct{}
	cancel   context.CancelFunc
	done     chan struct{}
}

// New builds a worker; Register handlers, then Start.
func New(st *store.Store, opts Options) *Worker {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 200
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Worker{st: st, opts: opts, handlers: map[string]Handler{}, bulk: map[string]bool{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Register sets the handler of a kind.
func (w *Worker) Register(kind string, h Handler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[kind] = h
}

// RegisterBulk sets the handler of a kind whose timers come in bulk (a
// broadcast's thousands): they are claimed only with the room a batch has
// left after every other due timer, so they never hold another kind back.
func (w *Worker) RegisterBulk(kind string, h Handler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.handlers[kind] = h
	w.bulk[kind] = true
}

// Notify makes the worker look for due timers now.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Start runs the worker until Close or ctx ends.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			n, err := w.Fire(ctx)
			if err != nil && ctx.Err() == nil {
				w.opts.Logger.Warn("timers: firing failed; retrying", "err", err)
			}
			if n >= w.opts.Batch {
				continue
			}
			select {
			case <-ctx.Done():
			case <-w.wake:
			case <-time.After(w.opts.Poll):
			}
		}
	}()
}

// Close stops the worker, waiting at most until ctx ends.
func (w *Worker) Close(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return errors.New("timers: worker did not stop before the shutdown deadline")
	}
}

// Fire claims the timers due now, runs their handlers, and removes those
// that succeeded. It says how many it claimed.
func (w *Worker) Fire(ctx context.Context) (int, error) {
	// Only the kinds this worker fires: another worker of the process (or
	// of another process) may fire other kinds.
	w.mu.Lock()
	var kinds, bulk []string
	for k := range w.handlers {
		if w.bulk[k] {
			bulk = append(bulk, k)
		} else {
			kinds = append(kinds, k)
		}
	}
	w.mu.Unlock()
	if len(kinds)+len(bulk) == 0 {
		return 0, nil
	}
	// Claims and their bookkeeping run to completion even when the worker
	// is stopping (a statement cut short may still commit, leaving a claim
	// nobody holds until its lease ends); a stopping worker hands back
	// what it has not fired, so the next one fires it at once.
	bg, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var due []store.Timer
	if len(kinds) > 0 {
		var err error
		if due, err = w.st.ClaimTimers(bg, w.opts.Now(), w.opts.Lease, w.opts.Batch, kinds...); err != nil {
			return 0, err
		}
	}
	if room := w.opts.Batch - len(due); room > 0 && len(bulk) > 0 {
		more, err := w.st.ClaimTimers(bg, w.opts.Now(), w.opts.Lease, room, bulk...)
		if err != nil {
			if len(due) > 0 { // fire what is claimed; the rest waits for the next look
				w.opts.Logger.Warn("timers: claim bulk kinds", "err", err)
			} else {
				return 0, err
			}
		}
		due = append(due, more...)
	}
	if len(due) == 0 {
		return 0, nil
	}
	byKind := map[string][]store.Timer{}
	for _, t := range due {
		byKind[t.Kind] = append(byKind[t.Kind], t)
	}
	var errs []error
	for kind, ts := range byKind {
		w.mu.Lock()
		h := w.handlers[kind]
		w.mu.Unlock()
		if h == nil {
			errs = append(errs, fmt.Errorf("no handler for %d timers of kind %q", len(ts), kind))
			continue
		}
		err := ctx.Err()
		if err == nil {
			err = h(ctx, ts)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s timers: %w", kind, err))
			if ctx.Err() != nil {
				if err := w.st.ReleaseTimers(bg, ts); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		if err := w.st.FinishTimers(bg, ts); err != nil {
			errs = append(errs, err)
		}
	}
	return len(due), errors.Join(errs...)
}
