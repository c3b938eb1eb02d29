// Package live follows a workspace's committed events as they arrive, for
// the events page's Live mode: it reads the store's commit-safe feed (so it
// works the same on every instance, whichever one stored the event), applies
// the page's filter, and hands out each batch with a cursor the browser gets
// back as Last-Event-ID when it reconnects (after a server restart too).
package live

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/store"
)

// Filter is the events page's filter; zero fields do not filter.
type Filter struct {
	Type  string
	Event string
	User  string // userId or anonymousId
	From  time.Time
	To    time.Time
}

// Match reports whether e passes the filter.
func (f Filter) Match(e store.FeedEvent) bool {
	switch {
	case f.Type != "" && e.Type != f.Type,
		// Event and user ignore case, like the events page's query.
		f.Event != "" && !strings.EqualFold(e.Event, f.Event),
		f.User != "" && !strings.EqualFold(e.UserID, f.User) && !strings.EqualFold(e.AnonymousID, f.User),
		!f.From.IsZero() && e.ReceivedAt.Before(f.From),
		!f.To.IsZero() && !e.ReceivedAt.Before(f.To):
		return false
	}
	return true
}

// EncodeCursor writes a feed position as an SSE id: "<tx>.<id>".
func EncodeCursor(c store.FeedCursor) string {
	return strconv.FormatInt(c.Tx, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// ErrBadCursor is returned for a Last-Event-ID Inlet did not write.
var ErrBadCursor = errors.New("invalid live cursor")

// ParseCursor reads what EncodeCursor wrote.
func ParseCursor(s string) (store.FeedCursor, error) {
	tx, id, ok := strings.Cut(s, ".")
	if !ok || len(s) > 48 {
		return store.FeedCursor{}, ErrBadCursor
	}
	t, err1 := strconv.ParseInt(tx, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || t < 0 || i < 0 {
		return store.FeedCursor{}, ErrBadCursor
	}
	return store.FeedCursor{Tx: t, ID: i}, nil
}

// Batch is what one poll found: the matching events (oldest first), the
// cursor after them, and Skipped: how many matching events the stream
// jumped over because it was too far behind (a flood), SkippedMore when
// there were more than it counted.
type Batch struct {
	Events      []store.FeedEvent
	Cursor      store.FeedCursor
	Skipped     int
	SkippedMore bool
}

// Options tune Follow.
type Options struct {
	Poll     time.Duration // between feed reads, 1s
	MaxBatch int           // events read per poll, 500; a stream further behind than this jumps to the newest
	MaxCount int           // skipped events counted at most, 1,000,000
	// Started, when set, is called once Follow has taken its start cursor:
	// what commits after it is shown. Tests wait on it instead of sleeping.
	Started func(from store.FeedCursor)
}

// Follow reads the feed of ws from `from` (nil: from now on) until ctx ends,
// calling emit for every poll that moved the cursor. Memory is bounded by
// MaxBatch whatever arrives: when a poll finds more than a batch waiting (a
// burst, or a browser reconnecting far behind), it reads the newest batch
// instead and counts what it jumped over, so the view shows what is
// arriving now rather than working through a backlog it can never show.
func Follow(ctx context.Context, st *store.Store, ws uuid.UUID, f Filter, from *store.FeedCursor, o Options, emit func(Batch) error) error {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
	}
	if o.MaxCount <= 0 {
		o.MaxCount = 1_000_000
	}
	var cur store.FeedCursor
	if from != nil {
		cur = *from
	} else {
		head, err := st.FeedHead(ctx, ws)
		if err != nil {
			return err
		}
		cur = head
	}
	if o.Started != nil {
		o.Started(cur)
	}
	t := time.NewTicker(o.Poll)
	defer t.Stop()
	for {
		b, err := poll(ctx, st, ws, f, cur, o)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		// On an error the database may be back by the next poll; the
		// browser keeps its cursor either way.
		if err == nil && b.Cursor != cur {
			if err := emit(b); err != nil {
				return err
			}
			cur = b.Cursor
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// poll reads what came after cur: everything when it fits in a batch, else
// the newest batch and the count of the matching events skipped before it.
func poll(ctx context.Context, st *store.Store, ws uuid.UUID, f Filter, cur store.FeedCursor, o Options) (Batch, error) {
	b := Batch{Cursor: cur}
	evs, err := st.ReadFeed(ctx, ws, cur, o.MaxBatch)
	if err != nil || len(evs) == 0 {
		return b, err
	}
	if len(evs) == o.MaxBatch {
		newest, err := st.ReadFeedNewest(ctx, ws, cur, o.MaxBatch)
		if err != nil {
			return b, err
		}
		last := evs[len(evs)-1].Cursor
		if len(newest) > 0 && !last.Reached(newest[0].Cursor) {
			// A gap between the two reads: jump it and say how much it held.
			n, more, err := st.CountFeed(ctx, ws, cur, newest[0].Cursor,
				store.FeedCountFilter{Type: f.Type, Event: f.Event, User: f.User, From: f.From, To: f.To}, o.MaxCount)
			if err != nil {
				return b, err
			}
			b.Skipped, b.SkippedMore = n, more
			evs = newest
		} else {
			for _, e := range newest { // they overlap: add what the first read did not reach
				if !last.Reached(e.Cursor) {
					evs = append(evs, e)
				}
			}
		}
	}
	b.Cursor = evs[len(evs)-1].Cursor
	for _, e := range evs {
		if f.Match(e) {
			b.Events = append(b.Events, e)
		}
	}
	return b, nil
}
