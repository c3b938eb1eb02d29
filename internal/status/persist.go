package status

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/store"
)

// Store is where the aggregator keeps its state across restarts;
// *store.Store implements it. SaveDeliveries adds a batch once per key.
type Store interface {
	SaveDeliveries(ctx context.Context, batch string, attempts []store.DeliveryAttempt, minutes []store.DeliveryMinute, keepAttempts int, dropMinutesBefore time.Time) error
	LoadDeliveries(ctx context.Context, since time.Time, perWorkspace int) (store.DeliveryHistory, error)
}

// Options tune an Aggregator; the zero value is fine.
type Options struct {
	FlushEvery time.Duration    // default 5s
	Now        func() time.Time // default time.Now; tests move it
	Logger     *slog.Logger
	// Flushed, when set, is called after each background flush (and the
	// reload after it) with its outcome: tests wait on it instead of
	// polling the database.
	Flushed func(error)
	// MinuteRetention is how long per-minute counts stay in the database
	// (default 24h); only the last hour is shown.
	MinuteRetention time.Duration
}

// NewAggregator returns an aggregator persisting through st (nil: memory only).
func NewAggregator(st Store, opts Options) *Aggregator {
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MinuteRetention <= 0 {
		opts.MinuteRetention = 24 * time.Hour
	}
	return &Aggregator{ws: map[uuid.UUID]*workspace{}, now: opts.Now, st: st, opts: opts}
}

// Load replaces what memory shows with what the database holds plus what
// was recorded but not yet flushed. Flushed records are in the database, so
// nothing is counted twice, whenever Load runs.
func (g *Aggregator) Load(ctx context.Context) error {
	if g.st == nil {
		return nil
	}
	g.flushMu.Lock()
	defer g.flushMu.Unlock()
	// A batch whose save failed may or may not be in the database; saving
	// it again under its key settles that (it is added at most once), so
	// what is loaded next holds it exactly once.
	if err := g.saveRetry(ctx); err != nil {
		return err
	}
	first := unixMinute(g.now()) - WindowMinutes + 1
	h, err := g.st.LoadDeliveries(ctx, time.Unix(first*60, 0), RecentAttempts)
	if err != nil {
		return err
	}
	if h.LastEvent == nil {
		h.LastEvent = map[uuid.UUID]time.Time{}
	}
	attempts := map[uuid.UUID][]Attempt{}
	for _, a := range h.Attempts {
		if a.Accepted > 0 && a.At.After(h.LastEvent[a.WorkspaceID]) {
			h.LastEvent[a.WorkspaceID] = a.At
		}
		attempts[a.WorkspaceID] = append(attempts[a.WorkspaceID], Attempt{At: a.At, WorkspaceID: a.WorkspaceID,
			Source: a.Source, Outcome: outcomes[outcomeIndex(a.Outcome)], Reason: a.Reason, Status: a.Status,
			Accepted: a.Accepted, Duplicates: a.Duplicates, Suppressed: a.Suppressed, Credential: a.Credential})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for id := range attempts {
		g.workspace(id)
	}
	for _, m := range h.Minutes {
		g.workspace(m.WorkspaceID)
	}
	for id := range h.LastEvent {
		g.workspace(id)
	}
	for id, w := range g.ws {
		w.resetRecent(append(attempts[id], w.pendingAttempts...))
		w.buckets = [WindowMinutes]bucket{}
		for k, c := range w.pendingMinutes {
			w.addMinute(k.minute, k.outcome, c)
		}
		if t := h.LastEvent[id]; t.After(w.lastAccepted) {
			w.lastAccepted = t
		}
	}
	for _, m := range h.Minutes {
		g.ws[m.WorkspaceID].addMinute(unixMinute(m.Minute), outcomeIndex(m.Outcome),
			counts{requests: m.Requests, accepted: m.Accepted, duplicates: m.Duplicates, suppressed: m.Suppressed})
	}
	g.loaded = true
	return nil
}

func (g *Aggregator) workspace(id uuid.UUID) *workspace {
	w := g.ws[id]
	if w == nil {
		w = newWorkspace()
		g.ws[id] = w
	}
	return w
}

// batch is what one flush saves, under a key of its own.
type batch struct {
	key      string
	attempts []store.DeliveryAttempt
	minutes  []store.DeliveryMinute
	drop     time.Time
}

// Flush writes what was recorded since the last flush.
//
// A save that fails may still have committed (a COMMIT that lands after
// the deadline reports an error), so a failed batch is not merged back
// into what is pending: it is kept whole, with its key, and saved again
// first by the next Flush or Load. The store adds a key once, so a slow
// database never counts a delivery twice. Memory stays bounded: one kept
// batch plus what Record keeps pending (the newest attempts, the minutes).
func (g *Aggregator) Flush(ctx context.Context) error {
	if g.st == nil {
		return nil
	}
	g.flushMu.Lock()
	defer g.flushMu.Unlock()
	if err := g.saveRetry(ctx); err != nil {
		return err
	}
	b := g.take()
	if b == nil {
		return nil
	}
	if err := g.st.SaveDeliveries(ctx, b.key, b.attempts, b.minutes, keptAttempts, b.drop); err != nil {
		g.retry = b
		return err
	}
	return nil
}

// saveRetry saves the batch a failed flush kept, if any. flushMu is held.
func (g *Aggregator) saveRetry(ctx context.Context) error {
	if g.retry == nil {
		return nil
	}
	b := g.retry
	if err := g.st.SaveDeliveries(ctx, b.key, b.attempts, b.minutes, keptAttempts, b.drop); err != nil {
		return err
	}
	g.retry = nil
	return nil
}

// take moves what is pending into a new batch (nil when nothing is).
func (g *Aggregator) take() *batch {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := &batch{key: uuid.NewString(), drop: g.now().Add(-g.opts.MinuteRetention)}
	for id, w := range g.ws {
		for _, a := range w.pendingAttempts {
			b.attempts = append(b.attempts, store.DeliveryAttempt{WorkspaceID: id, At: a.At, Source: a.Source, Outcome: a.Outcome,
				Reason: a.Reason, Status: a.Status, Accepted: a.Accepted, Duplicates: a.Duplicates, Suppressed: a.Suppressed, Credential: a.Credential})
		}
		for k, c := range w.pendingMinutes {
			b.minutes = append(b.minutes, store.DeliveryMinute{WorkspaceID: id, Minute: time.Unix(k.minute*60, 0).UTC(),
				Outcome: outcomes[k.outcome], Requests: c.requests, Accepted: c.accepted, Duplicates: c.duplicates, Suppressed: c.suppressed})
		}
		w.pendingAttempts, w.pendingMinutes = nil, map[minuteKey]counts{}
	}
	if len(b.attempts) == 0 && len(b.minutes) == 0 {
		return nil
	}
	return b
}

// roundTimeout bounds one background flush and reload. It does not shrink
// with FlushEvery: a short interval must not make a merely slow database
// look down (a late COMMIT is harmless now, but each one costs a retry).
const roundTimeout = 30 * time.Second

// Start loads the saved status (a failure is retried by the flusher) and
// starts flushing every FlushEvery until Close or ctx ends (Close still
// writes what is left).
func (g *Aggregator) Start(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := g.Load(lctx); err != nil {
		g.opts.Logger.Warn("connection status not loaded yet; will retry", "err", err)
	}
	cancel()
	g.run = lifecycle.New(ctx, "connection status flusher")
	g.run.Go(g.loop)
}

func (g *Aggregator) loop(ctx context.Context) {
	t := time.NewTicker(g.opts.FlushEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(ctx, roundTimeout)
		// Reload after every flush, not only once: with several instances on
		// one database each shows what all of them saved, not only its own
		// traffic (Load adds what this one has not saved yet).
		err := g.Flush(rctx)
		if err == nil {
			err = g.Load(rctx)
		}
		cancel()
		if g.opts.Flushed != nil {
			g.opts.Flushed(err)
		}
		// One line when saving starts failing and one when it recovers, not
		// one every few seconds during an outage.
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			g.opts.Logger.Warn("connection status not saved; retrying", "err", err)
		case err == nil && failing:
			g.opts.Logger.Info("connection status saved again")
		}
		failing = err != nil
	}
}

// closeRetryFor bounds how long the last flush keeps trying: `docker compose
// restart` stops PostgreSQL while Inlet shuts down, and the database is
// often back within a few seconds. Within SHUTDOWN_TIMEOUT (ctx) either way.
const closeRetryFor = 5 * time.Second

// Close stops the flusher (a flush under way is cancelled and kept for the
// last one) and writes what is left, retrying briefly (with backoff, up to
// closeRetryFor or ctx's end) while the database refuses.
func (g *Aggregator) Close(ctx context.Context) error {
	if err := g.run.Stop(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, closeRetryFor)
	defer cancel()
	wait := 100 * time.Millisecond
	for tries := 1; ; tries++ {
		err := g.Flush(ctx)
		if err == nil {
			if tries > 1 {
				g.opts.Logger.Info("connection status saved at shutdown", "tries", tries)
			}
			return nil
		}
		if tries == 1 {
			g.opts.Logger.Warn("connection status not saved at shutdown; retrying briefly", "for", closeRetryFor.String(), "err", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("save the connection status at shutdown (%d tries): %w", tries, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}
