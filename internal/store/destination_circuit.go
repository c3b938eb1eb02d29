package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Circuit is a destination's circuit as its page shows it: open while its
// receiver is down and the worker probes with one event at a time instead
// of sending each event on its own retry schedule.
type Circuit struct {
	OpenSince *time.Time // nil: closed (events flow)
	NextProbe *time.Time // when the next probe is due while open
	Probes    int        // probes that failed since it opened
	Reason    string     // why the last attempt failed
}

// Open reports whether the circuit is open.
func (c Circuit) Open() bool { return c.OpenSince != nil }

// saveCircuit writes c to destination id inside a progress transaction.
func saveCircuit(tx *gorm.DB, id string, c Circuit) error {
	var since, next dbTime // zero is NULL
	if c.OpenSince != nil {
		since = at(*c.OpenSince)
	}
	if c.NextProbe != nil {
		next = at(*c.NextProbe)
	}
	_, err := exec(tx, `UPDATE destinations SET circuit_open_since = ?, circuit_next_probe = ?, circuit_probes = ?,
		circuit_reason = ? WHERE id = ?`, since, next, c.Probes, truncateUTF8(c.Reason, maxReasonBytes), id)
	if err != nil {
		return fmt.Errorf("save circuit: %w", err)
	}
	return nil
}

// drainRetries brings every pending retry of destination id forward to now
// (a receiver that answered again gets its backlog at once), except that an
// event whose receiver asked for a Retry-After keeps waiting until then.
func drainRetries(tx *gorm.DB, id string, now time.Time) error {
	_, err := exec(tx, `UPDATE destination_retries SET next_at = CASE WHEN not_before IS NOT NULL AND not_before > ?
		THEN not_before ELSE ? END WHERE destination_id = ? AND NOT failed AND next_at > ?`, at(now), at(now), id, at(now))
	if err != nil {
		return fmt.Errorf("bring retries forward: %w", err)
	}
	return nil
}

// ProbeRetry returns the event waiting in destination d's retry table that
// its own schedule would send soonest and that may be sent at now (its
// Retry-After, if any, has passed), even if its time has not come: the probe
// of an open circuit. ok is false when there is none.
func (s *Store) ProbeRetry(ctx context.Context, d Destination, now time.Time) (PendingEvent, bool, error) {
	var rows []pendingRow
	err := all(s.db.WithContext(ctx), &rows, `SELECT r.event_id, r.attempts, r.first_failed_at,
		e.message_id, e.type, e.received_at, e.raw, e.user_id, e.anonymous_id, e.previous_id
		FROM destination_retries r LEFT JOIN events e ON e.id = r.event_id AND e.workspace_id = ?
		WHERE r.destination_id = ? AND NOT r.failed AND (r.not_before IS NULL OR r.not_before <= ?)
		ORDER BY r.next_at, r.event_id LIMIT 1`, d.WorkspaceID.String(), d.ID.String(), at(now))
	if err != nil {
		return PendingEvent{}, false, fmt.Errorf("probe of destination %s: %w", d.ID, err)
	}
	if len(rows) == 0 {
		return PendingEvent{}, false, nil
	}
	return pendingOf(rows)[0], true, nil
}

// pendingRow is a retry row joined with its event; the event columns are
// NULL when retention or an erasure deleted the event.
type pendingRow struct {
	EventID                         int64
	Attempts                        int
	FirstFailedAt                   dbTime
	MessageID, Type, Raw            sql.NullString
	UserID, AnonymousID, PreviousID sql.NullString
	ReceivedAt                      dbTime
}

func pendingOf(rows []pendingRow) []PendingEvent {
	out := make([]PendingEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, PendingEvent{EventID: r.EventID, Attempts: r.Attempts, FirstFailedAt: r.FirstFailedAt.ptr(),
			Gone: !r.MessageID.Valid, MessageID: r.MessageID.String, Type: r.Type.String, ReceivedAt: r.ReceivedAt.Time,
			Raw: []byte(r.Raw.String), UserID: r.UserID.String, AnonymousID: r.AnonymousID.String, PreviousID: r.PreviousID.String})
	}
	return out
}
