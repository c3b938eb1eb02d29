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
	Trusted     bool // see NewEvent.Trusted
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
		tx, err := s.feedHorizon(ctx)
		if err != nil {
			return c, fmt.Errorf("feed head: %w", err)
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
	return s.readFeed(ctx, ws, after, limit, "raw")
}

// ReadFeedWithTraits is ReadFeed for readers that need an event's JSON only
// when it carries traits (the profile follower): Raw is empty for every
// other event, so the database does not send, and the reader does not
// allocate, a kilobyte per event that it would not look at.
// also names more events whose JSON to read (the names and types of
// also.Names and also.Types): a follower that hands its batches on to
// another (the audience engine) reads what that one needs in the same
// statement.
func (s *Store) ReadFeedWithTraits(ctx context.Context, ws uuid.UUID, after FeedCursor, limit int, also FeedNeed) ([]FeedEvent, error) {
	cond := `instr(raw, '"traits"') > 0`
	raw := "raw"
	if s.dialect == Postgres {
		cond, raw = `strpos(raw::text, '"traits"') > 0`, "raw::text"
	}
	var args []any
	if len(also.Names) > 0 {
		cond += " OR (type = 'track' AND event IN (" + placeholders(len(also.Names)) + "))"
		args = strArgs(args, also.Names)
	}
	if len(also.Types) > 0 {
		cond += " OR type IN (" + placeholders(len(also.Types)) + ")"
		args = strArgs(args, also.Types)
	}
	return s.readFeed(ctx, ws, after, limit, "CASE WHEN "+cond+" THEN "+raw+" ELSE '' END", args...)
}

func (s *Store) readFeed(ctx context.Context, ws uuid.UUID, after FeedCursor, limit int, rawExpr string, rawArgs ...any) ([]FeedEvent, error) {
	return s.readFeedOrdered(ctx, ws, after, nil, limit, rawExpr, "", rawArgs...)
}

// readFeedOrdered is readFeed; desc " DESC" reads the newest rows first;
// upTo, when set, is the last position read. rawArgs are the bind values
// of rawExpr's placeholders.
func (s *Store) readFeedOrdered(ctx context.Context, ws uuid.UUID, after FeedCursor, upTo *FeedCursor, limit int, rawExpr, desc string, rawArgs ...any) ([]FeedEvent, error) {
	if limit <= 0 || limit > MaxFeedBatch {
		limit = MaxFeedBatch
	}
	cols := feedEventCols + rawExpr
	var q string
	var args []any
	if s.dialect == Postgres {
		// The horizon is read first, in its own statement, so the rows are
		// read with a later snapshot that sees every transaction below it.
		horizon, err := s.feedHorizon(ctx)
		if err != nil {
			return nil, fmt.Errorf("read feed of %s: %w", ws, err)
		}
		bound := ""
		args = []any{ws.String(), strconv.FormatInt(after.Tx, 10), after.ID, strconv.FormatInt(horizon, 10)}
		if upTo != nil {
			bound = " AND (tx_id, id) <= (?::text::xid8, ?)"
			args = append(args, strconv.FormatInt(upTo.Tx, 10), upTo.ID)
		}
		q = "SELECT tx_id::text, " + cols + " FROM events WHERE workspace_id = ? AND (tx_id, id) > (?::text::xid8, ?)" +
			" AND tx_id < ?::text::xid8" + bound +
			// events.tx_id, not tx_id: a bare name would be the text output
			// column, ordering "10" before "9" and sorting every row.
			" ORDER BY events.tx_id" + desc + ", events.id" + desc + " LIMIT ?"
		args = append(args, limit)
	} else {
		bound := ""
		args = []any{ws.String(), after.ID}
		if upTo != nil {
			bound = " AND id <= ?"
			args = append(args, upTo.ID)
		}
		q = "SELECT '0', " + cols + " FROM events WHERE workspace_id = ? AND id > ?" + bound + " ORDER BY id" + desc + " LIMIT ?"
		args = append(args, limit)
	}
	if len(rawArgs) > 0 {
		args = append(append([]any(nil), rawArgs...), args...)
	}
	rows, err := s.db.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read feed of %s after %v: %w", ws, after, err)
	}
	defer rows.Close()
	out := make([]FeedEvent, 0, min(limit, 256))
	// Positional scan on purpose (feedEventRow.dest): the delivery and profile feeds' hot path.
	for rows.Next() {
		var r feedEventRow
		var tx string
		if err := rows.Scan(append([]any{&tx}, r.dest()...)...); err != nil {
			return nil, fmt.Errorf("read feed row: %w", err)
		}
		e := r.event(ws)
		if e.Cursor.Tx, err = strconv.ParseInt(tx, 10, 64); err != nil {
			return nil, fmt.Errorf("feed row transaction id %q: %w", tx, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read feed of %s: %w", ws, err)
	}
	return out, nil
}

// feedHorizonSQL finds the oldest transaction still running in this database
// (or, when none is, the next transaction id to be handed out). Every event
// row with a lower tx_id was committed or rolled back before it was read.
// pg_snapshot_xmin alone would do but is cluster-wide: a long transaction in
// any other database of the server (a pg_dump, another application) would
// hold every reader back. The snapshot's in-progress list is matched to this
// database's sessions by the low 32 bits of their transaction id; a session
// that ends between the two reads has finished, which is what matters.
const feedHorizonSQL = `WITH s AS MATERIALIZED (SELECT pg_current_snapshot() AS snap)
SELECT coalesce(
	(SELECT min(x::text::bigint) FROM s, pg_snapshot_xip(s.snap) AS x
	 WHERE x::text::bigint % 4294967296 IN (
		SELECT backend_xid::text::bigint FROM pg_stat_activity
		WHERE datname = current_database() AND backend_xid IS NOT NULL)),
	(SELECT pg_snapshot_xmax(snap)::text::bigint FROM s))::text`

func (s *Store) feedHorizon(ctx context.Context) (int64, error) {
	var h string
	if err := s.db.WithContext(ctx).Raw(feedHorizonSQL).Scan(&h).Error; err != nil {
		return 0, fmt.Errorf("transaction horizon: %w", err)
	}
	tx, err := strconv.ParseInt(h, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("transaction horizon %q: %w", h, err)
	}
	return tx, nil
}

// feedEventCols are the events columns a FeedEvent is read from, but for
// the last: the raw JSON (or an expression standing for it).
const feedEventCols = "id, message_id, type, event, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, source, source_key, trusted, "

// feedEventRow is the one scan of an events row into a FeedEvent (the feed,
// a profile's events). These reads are the delivery and profile hot paths
// and stream many rows, so they scan by position into this, not through
// GORM's reflection (see sql.go).
type feedEventRow struct {
	e       FeedEvent
	ts, rec dbTime
	raw     string
}

// dest are the scan destinations for feedEventCols plus the raw column.
func (r *feedEventRow) dest() []any {
	return []any{&r.e.Cursor.ID, &r.e.MessageID, &r.e.Type, &r.e.Event, &r.e.UserID, &r.e.AnonymousID,
		&r.e.GroupID, &r.e.PreviousID, &r.ts, &r.rec, &r.e.Source, &r.e.SourceKey, &r.e.Trusted, &r.raw}
}

func (r *feedEventRow) event(ws uuid.UUID) FeedEvent {
	e := r.e
	e.WorkspaceID, e.Timestamp, e.ReceivedAt, e.Raw = ws, r.ts.ptr(), r.rec.Time, []byte(r.raw)
	return e
}
