package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
)

// FeedTail is the feed position of the last event of ws stored so far
// (zero when there is none). A reader whose cursor has reached it has seen
// every event committed before the call.
func (s *Store) FeedTail(ctx context.Context, ws uuid.UUID) (FeedCursor, error) {
	var c FeedCursor
	var tx string
	q := "SELECT '0', id FROM events WHERE workspace_id = ? ORDER BY id DESC LIMIT 1"
	if s.dialect == Postgres {
		q = "SELECT tx_id::text, id FROM events WHERE workspace_id = ? ORDER BY tx_id DESC, id DESC LIMIT 1"
	}
	err := s.sql.QueryRowContext(ctx, s.rebind(q), ws.String()).Scan(&tx, &c.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return FeedCursor{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("feed tail of %s: %w", ws, err)
	}
	if c.Tx, err = strconv.ParseInt(tx, 10, 64); err != nil {
		return c, fmt.Errorf("feed tail transaction id %q: %w", tx, err)
	}
	return c, nil
}

// Reached reports whether c is at or past t in feed order.
func (c FeedCursor) Reached(t FeedCursor) bool {
	if c.Tx != t.Tx {
		return c.Tx > t.Tx
	}
	return c.ID >= t.ID
}
