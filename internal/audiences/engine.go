package audiences

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// Options tune the engine; the zero value gets the defaults.
type Options struct {
	Limits Limits
	// Poll is how often an idle engine looks for new events. Default 200 ms.
	Poll time.Duration
	// Batch is the most events applied in one transaction. Default
	// store.MaxFeedBatch: the work of a batch grows with the profiles it
	// touches more than with its events, so a follower that has fallen
	// behind catches up in fewer, larger transactions.
	Batch int
	// BuildPage is how many profiles a build evaluates per transaction.
	BuildPage int
	Logger    *slog.Logger
	Now       func() time.Time // for tests; default time.Now
	// HistoryDays keeps transitions this many days (RETENTION_DAYS, the
	// events' retention); 0 keeps them forever.
	HistoryDays int
}

func (o Options) withDefaults() Options {
	o.Limits = o.Limits.WithDefaults()
	if o.Poll <= 0 {
		o.Poll = 200 * time.Millisecond
	}
	if o.Batch <= 0 {
		o.Batch = store.MaxFeedBatch
	}
	if o.BuildPage <= 0 {
		// A page is one transaction under the workspace's audience lock:
		// large enough that 100k profiles take 50 round trips of reads,
		// small enough that live events wait at most a page.
		o.BuildPage = 2000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Engine keeps every workspace's audience memberships current. It follows
// the same commit-safe feed as the profile follower, with its own cursor
// per workspace that never passes the profile follower's, so it reads
// profiles that already reflect every event it applies. Each batch updates
// leaf states, memberships, history, timers, transition events and the
// cursor in one transaction under the workspace's audience lock: a crash
// neither skips nor doubles a transition, whichever instance redoes it.
type Engine struct {
	st     *store.Store
	opts   Options
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
	cache  defCache
	handed handoff
}

// NewEngine builds an engine; Start runs it.
func NewEngine(st *store.Store, opts Options) *Engine {
	return &Engine{st: st, opts: opts.withDefaults(), wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// Limits are the engine's definition limits.
func (e *Engine) Limits() Limits { return e.opts.Limits }

// Notify wakes the engine now; it never blocks.
func (e *Engine) Notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Start runs the engine until Close or ctx ends.
func (e *Engine) Start(ctx context.Context) {
	ctx, e.cancel = context.WithCancel(ctx)
	go e.loop(ctx)
}

// Close stops the engine after its current transaction.
func (e *Engine) Close(ctx context.Context) error {
	e.once.Do(func() {
		if e.cancel != nil {
			e.cancel()
		} else {
			close(e.done)
		}
	})
	select {
	case <-e.done:
		return nil
	case <-ctx.Done():
		return errors.New("audiences: engine did not stop before the shutdown deadline")
	}
}

func (e *Engine) loop(ctx context.Context) {
	defer close(e.done)
	var wss []uuid.UUID
	var listed, pruned time.Time
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if e.opts.HistoryDays > 0 && time.Since(pruned) > time.Hour {
			pruned = time.Now()
			e.pruneHistory(ctx)
		}
		if time.Since(listed) > 5*time.Second {
			if ids, err := e.st.WorkspaceIDs(ctx); err == nil {
				wss, listed = ids, time.Now()
			} else if ctx.Err() == nil {
				e.opts.Logger.Warn("audiences: list workspaces", "err", err)
			}
		}
		full, failed := false, false
		for _, ws := range wss {
			n, err := e.Step(ctx, ws)
			if err == nil {
				var built bool
				built, err = e.BuildStep(ctx, ws)
				full = full || built
			}
			if err != nil {
				if ctx.Err() == nil {
					e.opts.Logger.Warn("audiences: evaluation failed; retrying", "workspace", ws, "err", err)
				}
				failed = true
				continue
			}
			full = full || n >= e.opts.Batch
		}
		wait := e.opts.Poll
		switch {
		case failed:
			backoff = min(max(2*backoff, time.Second), 30*time.Second)
			wait = backoff
		case full:
			backoff = 0
			continue
		default:
			backoff = 0
		}
		select {
		case <-ctx.Done():
		case <-e.wake:
		case <-time.After(wait):
		}
	}
}

var errMoved = errors.New("audience cursor moved")

// Step applies the next batch of ws's feed that the profile follower has
// already applied, and says how many events it covered.
func (e *Engine) Step(ctx context.Context, ws uuid.UUID) (int, error) {
	c0, err := e.st.AudienceCursor(ctx, ws)
	if err != nil {
		return 0, err
	}
	pc, err := e.st.ProfileCursor(ctx, ws)
	if err != nil || c0.Reached(pc) {
		return 0, err
	}
	rows, err := e.st.Audiences(ctx, ws)
	if err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		// No audience: nothing reads these events (a build covers them if
		// one is created), so the cursor skips to the profiles' without
		// reading the feed.
		e.cache.forget(ws)
		e.handed.drop(ws)
		return e.skipTo(ctx, ws, c0, pc)
	}
	s0, err := e.cache.load(ws, rows)
	if err != nil {
		return 0, err
	}
	need := s0.feedNeed()
	events, ok := e.handed.take(ws, c0, need, e.opts.Batch)
	if !ok {
		need.UpTo = &pc
		if events, err = e.st.ReadFeedFor(ctx, ws, c0, e.opts.Batch, need); err != nil {
			return 0, err
		}
	}
	n := 0
	for n < len(events) && pc.Reached(events[n].Cursor) {
		n++
	}
	events = events[:n]
	// With nothing left up to the profile cursor (erased events), the
	// cursor moves to it: everything there was committed and read.
	upTo := pc
	if n > 0 {
		upTo = events[n-1].Cursor
	}
	err = e.st.WithAudienceLock(ctx, ws, func(tx *store.AudienceTx) error {
		if tx.Cursor() != c0 {
			return errMoved
		}
		s, err := e.load(tx)
		if err != nil {
			return err
		}
		if !s.sameSets(s0) {
			return errMoved // an edit since the feed was read: read it again
		}
		if !s.empty() {
			now := e.opts.Now().UTC()
			if err := e.overdue(tx, s, now); err != nil {
				return err
			}
			p := &pass{tx: tx, s: s, now: now, emit: true, lazyTimers: true}
			if err := p.applyEvents(events); err != nil {
				return err
			}
			if err := p.flush(); err != nil {
				return err
			}
		}
		return tx.SetCursor(upTo)
	})
	if errors.Is(err, errMoved) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("apply %d events to the audiences of %s: %w", n, ws, err)
	}
	return max(n, 1), nil
}

// CatchUp applies every event the profile follower has applied in ws and
// finishes every build; the caller catches the profiles up first.
func (e *Engine) CatchUp(ctx context.Context, ws uuid.UUID) error {
	for {
		n, err := e.Step(ctx, ws)
		if err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		built, err := e.BuildStep(ctx, ws)
		if err != nil {
			return err
		}
		if built {
			continue
		}
		c, err := e.st.AudienceCursor(ctx, ws)
		if err != nil {
			return err
		}
		pc, err := e.st.ProfileCursor(ctx, ws)
		if err != nil {
			return err
		}
		if c.Reached(pc) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// FireTimers is the timers handler: it re-evaluates profiles whose answer
// changes at a window's edge. The transition takes effect at the edge.
func (e *Engine) FireTimers(ctx context.Context, due []store.Timer) error {
	byWS := map[uuid.UUID][]store.Timer{}
	for _, t := range due {
		byWS[t.WorkspaceID] = append(byWS[t.WorkspaceID], t)
	}
	for ws, ts := range byWS {
		err := e.st.WithAudienceLock(ctx, ws, func(tx *store.AudienceTx) error {
			s, err := e.load(tx)
			if err != nil {
				return err
			}
			p := &pass{tx: tx, s: s, now: e.opts.Now().UTC(), emit: true}
			causes := map[string]cause{}
			keys := make([]string, 0, len(ts))
			for _, t := range ts {
				keys = append(keys, t.Key)
				causes[t.Key] = cause{message: "time", at: t.DueAt.UTC()}
			}
			sort.Strings(keys)
			if s.empty() {
				for _, k := range keys {
					p.timers = append(p.timers, store.TimerSet{Key: k})
				}
			} else if err := p.evaluate(keys, causes); err != nil {
				return err
			}
			return p.flush()
		})
		if err != nil {
			return fmt.Errorf("fire %d audience timers of %s: %w", len(ts), ws, err)
		}
	}
	return nil
}

// overdue applies the workspace's timers that are already due, before a
// batch's events: their changes take effect at the window's edge, not
// when the next event happened to arrive.
func (e *Engine) overdue(tx *store.AudienceTx, s *stored, now time.Time) error {
	due, err := tx.DueTimers(TimerKind, now, dirtyBatch)
	if err != nil || len(due) == 0 {
		return err
	}
	p := &pass{tx: tx, s: s, now: now, emit: true}
	causes := make(map[string]cause, len(due))
	keys := make([]string, 0, len(due))
	for _, t := range due {
		keys = append(keys, t.Key)
		causes[t.Key] = cause{message: "time", at: t.DueAt.UTC()}
	}
	if err := p.evaluate(keys, causes); err != nil {
		return err
	}
	return p.flush()
}

// pruneHistory deletes transitions older than the retention, in batches.
func (e *Engine) pruneHistory(ctx context.Context) {
	cutoff := e.opts.Now().AddDate(0, 0, -e.opts.HistoryDays)
	for ctx.Err() == nil {
		n, err := e.st.DeleteAudienceHistoryBefore(ctx, cutoff, 5000)
		if err != nil {
			e.opts.Logger.Warn("audiences: pruning history", "err", err)
			return
		}
		if n < 5000 {
			return
		}
	}
}

// skipTo moves the cursor from c0 to pc under the lock, unless another
// instance moved it or an audience appeared meanwhile.
func (e *Engine) skipTo(ctx context.Context, ws uuid.UUID, c0, pc store.FeedCursor) (int, error) {
	err := e.st.WithAudienceLock(ctx, ws, func(tx *store.AudienceTx) error {
		if tx.Cursor() != c0 {
			return errMoved
		}
		rows, err := tx.Audiences()
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			return errMoved // the next step reads the feed
		}
		return tx.SetCursor(pc)
	})
	if errors.Is(err, errMoved) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("move the audience cursor of %s: %w", ws, err)
	}
	return 1, nil
}
