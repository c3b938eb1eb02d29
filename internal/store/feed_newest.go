package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// ReadFeedNewest returns the newest limit events of ws after the cursor that
// the feed would hand out now (same commit-safe horizon as ReadFeed), oldest
// first. A reader far behind (the Live view after a flood) jumps to them:
// every event between after and the first one returned is skipped, which
// CountFeed can tell.
func (s *Store) ReadFeedNewest(ctx context.Context, ws uuid.UUID, after FeedCursor, limit int) ([]FeedEvent, error) {
	evs, err := s.readFeedOrdered(ctx, ws, after, nil, limit, "raw", " DESC")
	if err != nil {
		return nil, err
	}
	slices.Reverse(evs)
	return evs, nil
}

// FeedCountFilter narrows CountFeed like the events page's filter; zero
// fields do not filter. Event and user ignore case.
type FeedCountFilter struct {
	Type, Event, User string
	From, To          time.Time // received_at range, To excluded
}

// CountFeed counts the events of ws strictly between two feed positions
// that match f, counting at most upTo (more reports there were more).
func (s *Store) CountFeed(ctx context.Context, ws uuid.UUID, after, before FeedCursor, f FeedCountFilter, upTo int) (n int, more bool, err error) {
	conds := "workspace_id = ?"
	var args []any
	args = append(args, ws.String())
	if s.dialect == Postgres {
		conds += " AND (tx_id, id) > (?::text::xid8, ?) AND (tx_id, id) < (?::text::xid8, ?)"
		args = append(args, strconv.FormatInt(after.Tx, 10), after.ID, strconv.FormatInt(before.Tx, 10), before.ID)
	} else {
		conds += " AND id > ? AND id < ?"
		args = append(args, after.ID, before.ID)
	}
	if f.Type != "" {
		conds += " AND type = ?"
		args = append(args, f.Type)
	}
	if f.Event != "" {
		conds += " AND lower(event) = lower(?)"
		args = append(args, f.Event)
	}
	if f.User != "" {
		conds += " AND (lower(user_id) = lower(?) OR lower(anonymous_id) = lower(?))"
		args = append(args, f.User, f.User)
	}
	if !f.From.IsZero() {
		conds += " AND received_at >= ?"
		args = append(args, at(f.From))
	}
	if !f.To.IsZero() {
		conds += " AND received_at < ?"
		args = append(args, at(f.To))
	}
	args = append(args, upTo+1)
	var c int
	q := "SELECT count(*) FROM (SELECT 1 FROM events WHERE " + conds + " LIMIT ?) AS skipped"
	if err := s.db.WithContext(ctx).Raw(q, args...).Row().Scan(&c); err != nil {
		return 0, false, fmt.Errorf("count feed of %s: %w", ws, err)
	}
	if c > upTo {
		return upTo, true, nil
	}
	return c, false, nil
}
