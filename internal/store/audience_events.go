package store

import (
	"fmt"
	"strconv"
)

type leafEventRecord struct {
	ID          int64
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	Timestamp   dbTime
	ReceivedAt  dbTime
	Source      string
	Raw         string
}

// EventsUpTo pages through the workspace's events of one type (and, for
// track, one name) that the audience follower has already passed, by id:
// what a new leaf's states are filled from. Later events reach the leaf
// through the follower.
func (a *AudienceTx) EventsUpTo(typ, name string, afterID int64, limit int) ([]FeedEvent, error) {
	q := "SELECT id, message_id, type, event, user_id, anonymous_id, timestamp, received_at, source, raw FROM events WHERE workspace_id = ? AND type = ? AND id > ?"
	args := []any{a.ws.String(), typ, afterID}
	if name != "" {
		q += " AND event = ?"
		args = append(args, name)
	}
	if a.s.dialect == Postgres {
		q += " AND (tx_id, id) <= (?::text::xid8, ?)"
		args = append(args, strconv.FormatInt(a.cursor.Tx, 10), a.cursor.ID)
	} else {
		q += " AND id <= ?"
		args = append(args, a.cursor.ID)
	}
	var recs []leafEventRecord
	if err := a.tx.Raw(q+" ORDER BY id LIMIT ?", append(args, limit)...).Scan(&recs).Error; err != nil {
		return nil, fmt.Errorf("read %s %q events of %s: %w", typ, name, a.ws, err)
	}
	out := make([]FeedEvent, len(recs))
	for i, r := range recs {
		out[i] = FeedEvent{Cursor: FeedCursor{ID: r.ID}, WorkspaceID: a.ws, MessageID: r.MessageID, Type: r.Type, Event: r.Event,
			UserID: r.UserID, AnonymousID: r.AnonymousID, Timestamp: r.Timestamp.ptr(), ReceivedAt: r.ReceivedAt.Time,
			Source: r.Source, Raw: []byte(r.Raw)}
	}
	return out, nil
}
