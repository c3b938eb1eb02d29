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
// cursor after them, and Skipped when the stream jumped ahead because the
// browser was too far behind to catch up.
type Batch struct {
	Events  []store.FeedEvent
	Cursor  store.FeedCursor
	Skipped bool
}

// Options tune Follow.
type Options struct {
	Poll     time.Duration // between feed reads, 1s
	MaxBatch int           // events read per poll, 500; a stream further behind than this skips to the head
	// Started, when set, is called once Follow has taken its start cursor:
	// what commits after it is shown. Tests wait on it instead of sleeping.
	Started func(from store.FeedCursor)
}

// Follow reads the feed of ws from `from` (nil: from now on) until ctx ends,
// calling emit for every poll that moved the cursor. Memory is bounded by
// MaxBatch whatever arrives: a browser that reconnects far behind (or a
// burst larger than a batch) skips ahead rather than replaying a backlog.
func Follow(ctx context.Context, st *store.Store, ws uuid.UUID, f Filter, from *store.FeedCursor, o Options, emit func(Batch) error) error {
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
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
		evs, err := st.ReadFeed(ctx, ws, cur, o.MaxBatch)
		if err != nil && ctx.Err() == nil {
			// The database may be back by the next poll; the browser keeps
			// its cursor either way.
			evs = nil
		} else if err != nil {
			return ctx.Err()
		}
		if len(evs) > 0 {
			b := Batch{Cursor: evs[len(evs)-1].Cursor}
			if len(evs) == o.MaxBatch {
				// Too far behind: show the newest batch's matches and carry
				// on from the head instead of streaming a backlog.
				head, err := st.FeedHead(ctx, ws)
				if err == nil && (head.Tx > b.Cursor.Tx || (head.Tx == b.Cursor.Tx && head.ID > b.Cursor.ID)) {
					b.Cursor, b.Skipped = head, true
				}
			}
			for _, e := range evs {
				if f.Match(e) {
					b.Events = append(b.Events, e)
				}
			}
			if err := emit(b); err != nil {
				return err
			}
			cur = b.Cursor
			if len(evs) == o.MaxBatch && !b.Skipped {
				continue // more is waiting
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
