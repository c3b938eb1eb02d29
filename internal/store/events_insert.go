package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// NewEvent is one verified event ready to be stored.
type NewEvent struct {
	WorkspaceID uuid.UUID
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	GroupID     string
	PreviousID  string
	Timestamp   time.Time // zero → NULL
	ReceivedAt  time.Time
	Source      string // "webhook" or "http_api"
	SourceKey   string // the write key's id for http_api
	// Trusted: from the signed webhook or a server write key. Only a trusted
	// alias may merge two users who each have events of their own.
	Trusted bool
	Raw     []byte
}

const insertColumns = 14

// rowsPerStatement keeps each INSERT under both dialects' bind-variable limits.
const rowsPerStatement = 1000

// InsertEvents stores events in one transaction and reports, per event, whether
// it was new (true) or a duplicate (false) of a stored event or of an earlier
// event in the same call. Duplicates are per source: the key is (workspace,
// message_id, source, source_key), so an event sent with one write key never
// suppresses the same messageId from the webhook or another key. Nothing is
// stored if it fails.
func (s *Store) InsertEvents(ctx context.Context, events []NewEvent) ([]bool, error) {
	if len(events) == 0 {
		return nil, nil
	}
	inserted := make(map[eventKey]bool, len(events))
	var err error
	if s.dialect == Postgres {
		err = s.insertPostgres(ctx, events, inserted)
	} else {
		err = s.tx(ctx, func(tx *gorm.DB) error {
			return insertChunks(tx, events, inserted)
		})
	}
	if err != nil {
		return nil, err
	}
	return freshness(events, inserted), nil
}

// insertChunks inserts events in statements of at most rowsPerStatement rows
// inside tx, recording the keys that were new.
func insertChunks(tx *gorm.DB, events []NewEvent, inserted map[eventKey]bool) error {
	for start := 0; start < len(events); start += rowsPerStatement {
		chunk := events[start:min(start+rowsPerStatement, len(events))]
		query, args := insertSQL(chunk)
		rows, err := tx.Raw(query, args...).Rows()
		if err == nil {
			err = collectInserted(rows, inserted)
		}
		if err != nil {
			return fmt.Errorf("insert %d events: %w", len(chunk), err)
		}
	}
	return nil
}

// freshness turns the keys an insert returned into one answer per event: the
// first copy of a key in the call is the one that was stored; later copies
// (and keys the database already held) are duplicates.
func freshness(events []NewEvent, inserted map[eventKey]bool) []bool {
	out := make([]bool, len(events))
	for i := range events {
		k := keyOf(&events[i])
		if inserted[k] {
			out[i] = true
			delete(inserted, k)
		}
	}
	return out
}

// eventKey is the dedupe key: the unique constraint's columns.
type eventKey struct {
	ws     uuid.UUID
	mid    string
	source string
	key    string
}

func keyOf(e *NewEvent) eventKey {
	return eventKey{e.WorkspaceID, e.MessageID, e.Source, e.SourceKey}
}

// insertPostgres sends every event as 14 array parameters of one statement
// (INSERT … SELECT FROM unnest). The text never changes with the number of
// rows, so pgx prepares it once per connection and PostgreSQL plans it once,
// where a multi-row VALUES list is a new statement for every group size. A
// single statement is atomic on its own, so it needs no BEGIN/COMMIT round
// trips: the commit is the statement's own, and it is durable
// (synchronous_commit) before the answer comes back. It is the one query
// that bypasses GORM: GORM expands a Go slice argument into a list of bind
// variables, so the 14 arrays could not reach unnest as 13 parameters.
func (s *Store) insertPostgres(ctx context.Context, events []NewEvent, inserted map[eventKey]bool) error {
	n := len(events)
	ws := make([]string, n)
	mid := make([]string, n)
	typ := make([]string, n)
	ev := make([]string, n)
	uid := make([]string, n)
	aid := make([]string, n)
	gid := make([]string, n)
	pid := make([]string, n)
	ts := make([]*time.Time, n)
	rcv := make([]time.Time, n)
	src := make([]string, n)
	key := make([]string, n)
	trusted := make([]bool, n)
	raw := make([]string, n)
	for i := range events {
		e := &events[i]
		ws[i], mid[i], typ[i], ev[i] = e.WorkspaceID.String(), e.MessageID, e.Type, e.Event
		uid[i], aid[i], gid[i], pid[i] = e.UserID, e.AnonymousID, e.GroupID, e.PreviousID
		if !e.Timestamp.IsZero() {
			t := e.Timestamp.UTC()
			ts[i] = &t
		}
		rcv[i], src[i], key[i], raw[i] = e.ReceivedAt.UTC(), e.Source, e.SourceKey, string(e.Raw)
		trusted[i] = e.Trusted
	}
	rows, err := s.sql.QueryContext(ctx, pgInsertUnnest, ws, mid, typ, ev, uid, aid, gid, pid, ts, rcv, src, key, trusted, raw)
	if err == nil {
		err = collectInserted(rows, inserted)
	}
	if err != nil {
		return fmt.Errorf("insert %d events: %w", n, err)
	}
	return nil
}

const pgInsertUnnest = `INSERT INTO events (workspace_id, message_id, type, event, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, source, source_key, trusted, raw)
SELECT w, m, t, e, u, a, g, p, ts, r, s, k, tr, j::json
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[], $13::bool[], $14::text[])
	AS x(w, m, t, e, u, a, g, p, ts, r, s, k, tr, j)
ON CONFLICT (workspace_id, message_id, source, source_key) DO NOTHING
RETURNING workspace_id, message_id, source, source_key`

// collectInserted reads the (workspace_id, message_id, source, source_key)
// rows an INSERT … RETURNING gave back into inserted.
func collectInserted(rows *sql.Rows, inserted map[eventKey]bool) error {
	defer rows.Close()
	for rows.Next() {
		var ws, mid, src, key string
		if err := rows.Scan(&ws, &mid, &src, &key); err != nil {
			return fmt.Errorf("read inserted keys: %w", err)
		}
		id, err := uuid.Parse(ws)
		if err != nil {
			return fmt.Errorf("inserted workspace id %q: %w", ws, err)
		}
		inserted[eventKey{id, mid, src, key}] = true
	}
	if err := rows.Close(); err != nil {
		return err
	}
	return rows.Err()
}

// insertSQL is the SQLite statement: one multi-row VALUES list per chunk.
func insertSQL(events []NewEvent) (string, []any) {
	var b strings.Builder
	b.Grow(160 + len(events)*insertColumns*6)
	b.WriteString("INSERT INTO events (workspace_id, message_id, type, event, user_id, anonymous_id, group_id, previous_id, timestamp, received_at, source, source_key, trusted, raw) VALUES ")
	args := make([]any, 0, len(events)*insertColumns)
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < insertColumns; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
		args = append(args, e.WorkspaceID.String(), e.MessageID, e.Type, e.Event, e.UserID, e.AnonymousID,
			e.GroupID, e.PreviousID, at(e.Timestamp), at(e.ReceivedAt), e.Source, e.SourceKey, e.Trusted, string(e.Raw))
	}
	b.WriteString(" ON CONFLICT (workspace_id, message_id, source, source_key) DO NOTHING RETURNING workspace_id, message_id, source, source_key")
	return b.String(), args
}
