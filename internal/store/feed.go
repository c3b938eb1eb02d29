package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// FeedCursor is a position in a workspace's commit-safe feed of events: every
// event after it has not been read yet. On PostgreSQL it is (inserting
// transaction, id); on SQLite, where commit order is id order, Tx is 0.
// Consumers (profiles, destinations, the live view) keep one each.
type FeedCursor struct {
	Tx int64 `json:"tx"`
	ID int64 `json:"id"`
}

// FeedEvent is one committed event as the feed hands it to a consumer.
type FeedEvent struct {
	Cursor      FeedCursor // this event's own position
	WorkspaceID uuid.UUID
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	GroupID     string
	PreviousID  string
	Timestamp   *time.Time
	ReceivedAt  time.Time
	Source      string
	SourceKey   string
	Raw         []byte
}

// MaxFeedBatch caps one ReadFeed call.
const MaxFeedBatch = 5000

// FeedHead is where a consumer created now starts so that it sees every event
// committed from now on (and perhaps a few committed just before: readers are
// at-least-once). On PostgreSQL that is the oldest transaction still running,
// because one of those may commit after this call with ids below the newest.
func (s *Store) FeedHead(ctx context.Context, ws uuid.UUID) (FeedCursor, error) {
	var c FeedCursor
	if s.dialect == Postgres {
		var xmin string
		err := s.db.WithContext(ctx).Raw("SELECT pg_snapshot_xmin(pg_current_snapshot())::text").Scan(&xmin).Error
		if err != nil {
			return c, fmt.Errorf("feed head: %w", err)
		}
		tx, err := strconv.ParseInt(xmin, 10, 64)
		if err != nil {
			return c, fmt.Errorf("feed head: transaction id %q: %w", xmin, err)
		}
		// (tx-1, max) would be exact; (tx, 0) reads every row of tx and later.
		return FeedCursor{Tx: tx, ID: 0}, nil
	}
	var maxID *int64
	err := s.db.WithContext(ctx).Raw("SELECT max(id) FROM events WHERE workspace_id = ?", ws.String()).Scan(&maxID).Error
	if err != nil {
		return c, fmt.Errorf("feed head of %s: %w", ws, err)
	}
	if maxID != nil {
		c.ID = *maxID
	}
	return c, nil
}

// ReadFeed returns up to limit events of a workspace after the cursor, in
// commit-safe order: an event is handed out only once no transaction that
// could still commit an event before it is running, so a consumer that moves
// its cursor to the last event it was given never skips one.
func (s *Store) ReadFeed(ctx context.Context, ws uuid.UUID, after FeedCursor, limit int) ([]FeedEvent, error) {
	if limit <= 0 || limit > MaxFeedBatch {
		limit = MaxFeedBatch
	}
	const cols = "id, message_id, type, event, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, source, source_key, raw"
	var q string
	var args []any
	if s.dialect == Postgres {
		q = "SELECT tx_id::text, " + cols + " FROM events WHERE workspace_id = ? AND (tx_id, id) > (?::text::xid8, ?)" +
			" AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY tx_id, id LIMIT ?"
		args = []any{ws.String(), strconv.FormatInt(after.Tx, 10), after.ID, limit}
	} else {
		q = "SELECT '0', " + cols + " FROM events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?"
		args = []any{ws.String(), after.ID, limit}
	}
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read feed of %s after %v: %w", ws, after, err)
	}
	defer rows.Close()
	out := make([]FeedEvent, 0, min(limit, 256))
	for rows.Next() {
		e := FeedEvent{WorkspaceID: ws}
		var tx, raw string
		var ts nullTime
		var rec dbTime
		if err := rows.Scan(&tx, &e.Cursor.ID, &e.MessageID, &e.Type, &e.Event, &e.UserID, &e.AnonymousID,
			&e.GroupID, &e.PreviousID, &ts, &rec, &e.Source, &e.SourceKey, &raw); err != nil {
			return nil, fmt.Errorf("read feed row: %w", err)
		}
		if e.Cursor.Tx, err = strconv.ParseInt(tx, 10, 64); err != nil {
			return nil, fmt.Errorf("feed row transaction id %q: %w", tx, err)
		}
		if ts.Valid {
			t := ts.Time
			e.Timestamp = &t
		}
		e.ReceivedAt, e.Raw = rec.Time, []byte(raw)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read feed of %s: %w", ws, err)
	}
	return out, nil
}
