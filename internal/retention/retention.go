// Package retention deletes events older than RETENTION_DAYS in the
// background, a small batch per statement with a pause between, so neither
// PostgreSQL nor SQLite holds long locks and the webhook's commits keep
// getting through while old data goes.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/lifecycle"
)

// Store is what retention needs from the store.
type Store interface {
	WorkspaceIDs(ctx context.Context) ([]uuid.UUID, error)
	DeleteEventsBefore(ctx context.Context, ws uuid.UUID, cutoff time.Time, limit int) (int64, error)
}

// Options tune the background deletion; only Days is required.
type Options struct {
	Days       int           // events received more than this many days ago are deleted
	Interval   time.Duration // between passes; default 1h
	FirstDelay time.Duration // before the first pass, so a start is not slowed; default 1m, negative = at once
	Batch      int           // most rows per DELETE; default 5000
	Pause      time.Duration // between two DELETEs; default 200ms
	Logger     *slog.Logger
	Observer   func(deleted int64, err error) // told after every pass (metrics)
	Now        func() time.Time               // tests pin the clock
}

// Retention runs passes until Close.
type Retention struct {
	st   Store
	opts Options
	run  *lifecycle.Group
}

// New checks the options and fills in defaults; it starts nothing.
func New(st Store, opts Options) (*Retention, error) {
	if opts.Days <= 0 {
		return nil, fmt.Errorf("retention: days must be positive, got %d", opts.Days)
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Hour
	}
	if opts.FirstDelay < 0 {
		opts.FirstDelay = 0
	} else if opts.FirstDelay == 0 {
		opts.FirstDelay = time.Minute
	}
	if opts.Batch <= 0 {
		opts.Batch = 5000
	}
	if opts.Pause <= 0 {
		opts.Pause = 200 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Retention{st: st, opts: opts}, nil
}

// Cutoff is the receive time before which events are deleted.
func (r *Retention) Cutoff() time.Time {
	return r.opts.Now().UTC().Add(-time.Duration(r.opts.Days) * 24 * time.Hour)
}

// RunOnce deletes every event older than the cutoff, workspace by workspace,
// and returns how many it deleted (also when it stops early on an error or
// a cancelled ctx).
func (r *Retention) RunOnce(ctx context.Context) (int64, error) {
	start := time.Now()
	cutoff := r.Cutoff()
	ids, err := r.st.WorkspaceIDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("retention: %w", err)
	}
	var total int64
	for _, ws := range ids {
		for {
			n, err := r.st.DeleteEventsBefore(ctx, ws, cutoff, r.opts.Batch)
			total += n
			if err != nil {
				return total, fmt.Errorf("retention: %w", err)
			}
			if n < int64(r.opts.Batch) {
				break
			}
			// Give the ingester's group commits the database between batches.
			if err := sleep(ctx, r.opts.Pause); err != nil {
				return total, err
			}
		}
	}
	level := slog.LevelDebug
	if total > 0 {
		level = slog.LevelInfo
	}
	r.opts.Logger.Log(ctx, level, "retention pass", "deleted_events", total,
		"older_than", cutoff.Format(time.RFC3339), "days", r.opts.Days, "ms", time.Since(start).Milliseconds())
	return total, nil
}

// Start runs a pass after FirstDelay and then every Interval until ctx ends
// or Close is called.
func (r *Retention) Start(ctx context.Context) {
	r.run = lifecycle.New(ctx, "retention")
	r.run.Go(func(ctx context.Context) {
		wait := r.opts.FirstDelay
		for {
			if sleep(ctx, wait) != nil {
				return
			}
			n, err := r.RunOnce(ctx)
			if r.opts.Observer != nil {
				r.opts.Observer(n, err)
			}
			if err != nil && ctx.Err() == nil {
				r.opts.Logger.Error("retention pass failed; next try at the next interval",
					"deleted_events", n, "err", err, "next_in", r.opts.Interval.String())
			}
			wait = r.opts.Interval
		}
	})
}

// Close stops the background passes (a running DELETE is cancelled and rolls
// back on its own) and waits for them to end, at most until ctx ends.
func (r *Retention) Close(ctx context.Context) error {
	return r.run.Stop(ctx)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
