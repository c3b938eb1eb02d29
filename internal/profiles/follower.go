// Package profiles turns events into who each user is: identities (a userId
// and anonymous ids, linked by events and merged by alias), traits where the
// latest event wins, groups, counts; and erases a user on request.
//
// A Follower runs in every server instance. Per workspace it reads the
// commit-safe event feed after its stored cursor and applies each batch in one
// transaction that also moves the cursor, holding the workspace's profile lock
// (store.WithProfileLock): every event is applied exactly once, whichever
// instance gets there first. It never runs on the webhook's path.
package profiles

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/store"
)

// Options tune profiles; the zero value gets the defaults.
type Options struct {
	// MaxAnonymousIDs caps the anonymous ids one profile holds; further ones
	// (the latest linked) stay profiles of their own. Default 100.
	MaxAnonymousIDs int
	// MaxUserIDs caps the userIds events carry that one profile holds; an
	// alias merge past it is refused and recorded. Default 5
	// (PROFILE_MAX_USER_IDS).
	MaxUserIDs int
	// OnMergeRefused, if set, is called once per alias merge refused for the
	// first time, after the batch that refused it committed (the metrics
	// counter). It must not block.
	OnMergeRefused func(reason string)
	// Poll is how often an idle follower looks for new events. Default 250 ms.
	Poll time.Duration
	// Gather is how long a busy follower waits after a batch that was not
	// full, so a steady stream is applied in larger batches: the profile
	// (and the audiences behind it) lag by up to this much. Default 100 ms.
	Gather time.Duration
	// Batch is the most events applied in one transaction. Default 5000:
	// a busy user's profile is written once per batch, not once per event
	// (500 on SQLite, whose single writer lock the ingester shares).
	Batch        int
	Logger       *slog.Logger
	Suppressions *Suppressions // optional: events of suppressed ids are dropped
	// Applied, when set, is called after each batch commits (the audience
	// engine is woken by it, so it follows within one batch, not one poll).
	Applied func()
	// Handoff, when set, is given each committed batch (see Handoff).
	Handoff Handoff
	// Notify, optional, is called after each erasure has finished (the
	// destinations that opted in get a signed erasure notice); it must
	// return within a few seconds.
	Notify func(ctx context.Context, ws uuid.UUID, n ErasureNotice)
}

// Handoff takes the follower's committed batches for a reader that trails
// it through the same feed (the audience engine): that reader uses them
// from memory when they continue where it is, instead of reading (and
// PostgreSQL sending) every row a second time.
type Handoff interface {
	// Need names the events whose JSON the batch should carry besides
	// those with traits.
	Need(ws uuid.UUID) store.FeedNeed
	// Handed is given a committed batch: the cursor it started after, the
	// need it was read with and its events (shared: read them only).
	Handed(ws uuid.UUID, after store.FeedCursor, need store.FeedNeed, events []store.FeedEvent)
}

func (o Options) withDefaults(d store.Dialect) Options {
	if o.MaxAnonymousIDs <= 0 {
		o.MaxAnonymousIDs = 100
	}
	if o.MaxUserIDs <= 0 {
		o.MaxUserIDs = 5
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Gather <= 0 {
		o.Gather = min(o.Poll, 100*time.Millisecond)
	}
	if o.Batch <= 0 {
		o.Batch = store.MaxFeedBatch
		if d == store.SQLite {
			o.Batch = 500
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Follower keeps the profiles of every workspace up to date.
type Follower struct {
	st   *store.Store
	opts Options
	wake chan struct{}
	run  *lifecycle.Group
}

// NewFollower builds a follower; Start runs it.
func NewFollower(st *store.Store, opts Options) *Follower {
	return &Follower{st: st, opts: opts.withDefaults(st.Dialect()), wake: make(chan struct{}, 1)}
}

// Notify wakes the follower now (after a local commit) instead of at its
// next poll. It never blocks.
func (f *Follower) Notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Start runs the follower until Close or ctx ends.
func (f *Follower) Start(ctx context.Context) {
	f.run = lifecycle.New(ctx, "profiles: follower")
	f.run.Go(f.loop)
}

// Close stops the follower after its current batch (which commits or rolls
// back whole), waiting at most until ctx ends.
func (f *Follower) Close(ctx context.Context) error {
	return f.run.Stop(ctx)
}

func (f *Follower) loop(ctx context.Context) {
	var wss []uuid.UUID
	var listed time.Time
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if time.Since(listed) > 5*time.Second {
			ids, err := f.st.WorkspaceIDs(ctx)
			if err == nil {
				wss, listed = ids, time.Now()
			} else if ctx.Err() == nil {
				f.opts.Logger.Warn("profiles: list workspaces", "err", err)
			}
		}
		busy, full, failed := false, false, false
		for _, ws := range wss {
			n, err := f.Step(ctx, ws)
			if err != nil {
				if ctx.Err() == nil {
					f.opts.Logger.Warn("profiles: applying events failed; retrying", "workspace", ws, "err", err)
				}
				failed = true
				continue
			}
			busy = busy || n > 0
			full = full || n >= f.opts.Batch
		}
		// A batch that was not full means the follower has caught up: it
		// waits Gather before the next one, and only an idle follower is
		// woken early by Notify (the ingester calls it after every commit).
		// Under steady ingestion it so applies one larger batch per gather
		// instead of a stream of tiny ones, each paying a transaction, the
		// cursor lock and the feed horizon for a handful of events.
		wait := f.opts.Poll
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
		wake := f.wake
		if busy {
			wake = nil // a nil channel never fires: wait the whole gather
			if !failed {
				wait = f.opts.Gather
			}
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-time.After(wait):
		}
	}
}

// errMoved means another instance applied the batch first.
var errMoved = errors.New("profile cursor moved")

// Step applies the next batch of ws's feed and says how many events it
// covered (0 when there was nothing new, or another instance took it).
func (f *Follower) Step(ctx context.Context, ws uuid.UUID) (int, error) {
	// Read outside the lock: the read does not hold back the feed horizon,
	// and the lock is held only while the batch is written.
	c0, err := f.st.ProfileCursor(ctx, ws)
	if err != nil {
		return 0, err
	}
	var need store.FeedNeed
	if f.opts.Handoff != nil {
		need = f.opts.Handoff.Need(ws)
	}
	events, err := f.st.ReadFeedWithTraits(ctx, ws, c0, f.opts.Batch, need)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	var suppr func(kind, id string) bool
	if f.opts.Suppressions != nil {
		if err := f.opts.Suppressions.Refresh(ctx); err != nil {
			return 0, err
		}
		suppr = f.opts.Suppressions.For(ws)
	}
	var b *batch
	err = f.st.WithProfileLock(ctx, ws, func(tx *store.ProfileTx) error {
		if tx.Cursor() != c0 {
			return errMoved
		}
		b = newBatch(tx, f.opts, suppr)
		if err := b.run(events); err != nil {
			return err
		}
		// The one hook for audiences: the profiles this batch changed are
		// marked in its transaction, so none is missed or marked twice.
		return tx.MarkAudienceDirty(b.touched())
	})
	if errors.Is(err, errMoved) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("apply %d events of workspace %s: %w", len(events), ws, err)
	}
	f.reportRefused(ws, b.refused)
	if f.opts.Handoff != nil {
		f.opts.Handoff.Handed(ws, c0, need, events)
	}
	if f.opts.Applied != nil {
		f.opts.Applied()
	}
	return len(events), nil
}

// reportRefused logs and counts the merges a committed batch refused for
// the first time: one log line per batch, naming no ids (ids are personal
// data, and logs are kept longer than the profile tables).
func (f *Follower) reportRefused(ws uuid.UUID, refused []store.MergeRefusal) {
	if len(refused) == 0 {
		return
	}
	by := map[string]int{}
	for _, r := range refused {
		by[r.Reason]++
		if f.opts.OnMergeRefused != nil {
			f.opts.OnMergeRefused(r.Reason)
		}
	}
	f.opts.Logger.Warn("profiles: merges refused", "workspace", ws, "untrusted", by[store.RefusedUntrusted],
		"max_user_ids", by[store.RefusedMaxUserIDs])
}

// CatchUp applies batches until every event of ws stored before the call
// is applied, and returns how many events it applied. On PostgreSQL the
// feed holds events back while older transactions anywhere in the cluster
// still run, so it may wait for them.
func (f *Follower) CatchUp(ctx context.Context, ws uuid.UUID) (int, error) {
	target, err := f.st.FeedTail(ctx, ws)
	if err != nil {
		return 0, err
	}
	total := 0
	for {
		n, err := f.Step(ctx, ws)
		total += n
		if err != nil {
			return total, err
		}
		if n > 0 {
			continue
		}
		c, err := f.st.ProfileCursor(ctx, ws)
		if err != nil {
			return total, err
		}
		if c.Reached(target) {
			return total, nil
		}
		// Events may have been erased meanwhile: never wait past the tail.
		tail, err := f.st.FeedTail(ctx, ws)
		if err != nil {
			return total, err
		}
		if !tail.Reached(target) {
			target = tail
			continue
		}
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Rebuild throws away the profiles of ws and recomputes them from every
// stored event, returning how many events it applied. While it runs, the
// workspace's profiles are partial; running followers help it along.
func (f *Follower) Rebuild(ctx context.Context, ws uuid.UUID) (int, error) {
	err := f.st.WithProfileLock(ctx, ws, func(tx *store.ProfileTx) error { return tx.ResetProfiles() })
	if err != nil {
		return 0, fmt.Errorf("reset profiles of %s: %w", ws, err)
	}
	return f.CatchUp(ctx, ws)
}

// touched lists the profiles whose audience answers the batch may have
// changed in a way the audience engine cannot see from the events alone:
// new or merged profiles, changed traits, changed identities, deleted
// ones; each with the messageId of the event that changed it. A profile
// whose only change is a count or a last-seen time is left out: the engine
// flags it itself when one of its events matches a performed leaf, so a
// steady stream of events costs no mark per profile.
func (b *batch) touched() map[string]string {
	out := map[string]string{}
	mark := func(k string) {
		if d, ok := b.docs[k]; ok {
			out[k] = d.cause()
		} else {
			out[k] = ""
		}
	}
	for k, d := range b.docs {
		if d.traitsChanged || d.Count == 0 {
			mark(k)
		}
	}
	for k := range b.gone {
		mark(k)
	}
	for k := range b.changed {
		if r, ok := b.rows[k]; ok && r.ProfileKey != "" {
			mark(r.ProfileKey)
		}
		if o, ok := b.orig[k]; ok && o.ProfileKey != "" {
			mark(o.ProfileKey)
		}
	}
	return out
}
