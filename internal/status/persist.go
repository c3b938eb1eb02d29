package status

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// Store is where the aggregator keeps its state across restarts;
// *store.Store implements it.
type Store interface {
	SaveDeliveries(ctx context.Context, attempts []store.DeliveryAttempt, minutes []store.DeliveryMinute, keepAttempts int, dropMinutesBefore time.Time) error
	LoadDeliveries(ctx context.Context, since time.Time, perWorkspace int) (store.DeliveryHistory, error)
}

// Options tune an Aggregator; the zero value is fine.
type Options struct {
	FlushEvery time.Duration    // default 5s
	Now        func() time.Time // default time.Now; tests move it
	Logger     *slog.Logger
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
			Accepted: a.Accepted, Duplicates: a.Duplicates, Credential: a.Credential})
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
			counts{requests: m.Requests, accepted: m.Accepted, duplicates: m.Duplicates})
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

// Flush writes what was recorded since the last flush. On failure it keeps
// it for the next try (bounded: the newest attempts, the retained minutes).
func (g *Aggregator) Flush(ctx context.Context) error {
	if g.st == nil {
		return nil
	}
	g.flushMu.Lock()
	defer g.flushMu.Unlock()
	type taken struct {
		attempts []Attempt
		minutes  map[minuteKey]counts
	}
	g.mu.Lock()
	batch := map[uuid.UUID]taken{}
	var attempts []store.DeliveryAttempt
	var minutes []store.DeliveryMinute
	for id, w := range g.ws {
		if len(w.pendingAttempts) == 0 && len(w.pendingMinutes) == 0 {
			continue
		}
		batch[id] = taken{w.pendingAttempts, w.pendingMinutes}
		for _, a := range w.pendingAttempts {
			attempts = append(attempts, store.DeliveryAttempt{WorkspaceID: id, At: a.At, Source: a.Source, Outcome: a.Outcome,
				Reason: a.Reason, Status: a.Status, Accepted: a.Accepted, Duplicates: a.Duplicates, Credential: a.Credential})
		}
		for k, c := range w.pendingMinutes {
			minutes = append(minutes, store.DeliveryMinute{WorkspaceID: id, Minute: time.Unix(k.minute*60, 0).UTC(),
				Outcome: outcomes[k.outcome], Requests: c.requests, Accepted: c.accepted, Duplicates: c.duplicates})
		}
		w.pendingAttempts, w.pendingMinutes = nil, map[minuteKey]counts{}
	}
	g.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	drop := g.now().Add(-g.opts.MinuteRetention)
	err := g.st.SaveDeliveries(ctx, attempts, minutes, keptAttempts, drop)
	if err == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for id, b := range batch {
		w := g.ws[id]
		all := append(b.attempts, w.pendingAttempts...)
		w.pendingAttempts = all[max(0, len(all)-keptAttempts):]
		for k, c := range b.minutes {
			if k.minute < unixMinute(drop) {
				continue
			}
			p := w.pendingMinutes[k]
			p.add(c)
			w.pendingMinutes[k] = p
		}
	}
	return err
}

// Start loads the saved status (a failure is retried by the flusher) and
// starts flushing every FlushEvery until Close.
func (g *Aggregator) Start(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := g.Load(lctx); err != nil {
		g.opts.Logger.Warn("connection status not loaded yet; will retry", "err", err)
	}
	cancel()
	g.stop, g.done = make(chan struct{}), make(chan struct{})
	go g.loop()
}

func (g *Aggregator) loop() {
	defer close(g.done)
	t := time.NewTicker(g.opts.FlushEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), g.opts.FlushEvery)
		// Reload after every flush, not only once: with several instances on
		// one database each shows what all of them saved, not only its own
		// traffic (Load adds what this one has not saved yet).
		err := g.Flush(ctx)
		if err == nil {
			err = g.Load(ctx)
		}
		cancel()
		// One line when saving starts failing and one when it recovers, not
		// one every few seconds during an outage.
		switch {
		case err != nil && !failing:
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

// Close stops the flusher and writes what is left, retrying briefly (with
// backoff, up to closeRetryFor or ctx's end) while the database refuses.
func (g *Aggregator) Close(ctx context.Context) error {
	if g.stop != nil {
		close(g.stop)
		<-g.done
		g.stop = nil
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
