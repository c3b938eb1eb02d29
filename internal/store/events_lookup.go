package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// CountEvents returns how many events a workspace holds.
func (s *Store) CountEvents(ctx context.Context, ws uuid.UUID) (int64, error) {
	var n int64
	err := s.sql.QueryRowContext(ctx, s.rebind("SELECT count(*) FROM events WHERE workspace_id = ?"), ws.String()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count events of %s: %w", ws, err)
	}
	return n, nil
}

// StoredEvent is one stored row as the lookup returns it.
type StoredEvent struct {
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	Source      string
	SourceKey   string
	Raw         []byte
}

// EventByMessageID returns the stored event with that message id, or
// ErrNotFound. Events are deduplicated per source, so several sources may
// each hold one with the same id: this returns the first one stored (see
// EventBySource for one source's copy).
func (s *Store) EventByMessageID(ctx context.Context, ws uuid.UUID, messageID string) (StoredEvent, error) {
	var e StoredEvent
	var raw string
	err := s.sql.QueryRowContext(ctx, s.rebind(
		"SELECT message_id, type, event, user_id, anonymous_id, source, source_key, raw FROM events WHERE workspace_id = ? AND message_id = ? ORDER BY id LIMIT 1"),
		ws.String(), messageID).Scan(&e.MessageID, &e.Type, &e.Event, &e.UserID, &e.AnonymousID, &e.Source, &e.SourceKey, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredEvent{}, ErrNotFound
	}
	if err != nil {
		return StoredEvent{}, fmt.Errorf("event %q of %s: %w", messageID, ws, err)
	}
	e.Raw = []byte(raw)
	return e, nil
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$')
			out = fmt.Appendf(out, "%d", n)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
