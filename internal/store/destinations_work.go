package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ErrLeaseLost is returned when a delivery worker writes progress for a
// destination whose lease another instance (or nobody) now holds: the write
// is refused so a stale worker never moves a cursor.
var ErrLeaseLost = errors.New("destination lease lost")

// ClaimDestination takes (or renews) the lease on a destination for owner
// until now+ttl, unless another owner holds an unexpired lease or it is
// paused. One conditional UPDATE is the whole claim: on PostgreSQL a
// concurrent claimer blocks on the row lock and then re-checks the WHERE
// against the winner's row, so two instances never both succeed.
func (s *Store) ClaimDestination(ctx context.Context, id uuid.UUID, owner string, now time.Time, ttl time.Duration) (bool, error) {
	n, err := exec(s.db.WithContext(ctx), (`UPDATE destinations SET leased_by = ?, leased_until = ?
		WHERE id = ? AND NOT paused AND (leased_until < ? OR leased_by = ?)`),
		owner, at(now.Add(ttl)), id.String(), at(now), owner)
	if err != nil {
		return false, fmt.Errorf("claim destination %s: %w", id, err)
	}
	return n == 1, nil
}

// ReleaseDestination gives up owner's lease at once (a clean shutdown), so
// another instance can take over without waiting for it to expire.
func (s *Store) ReleaseDestination(ctx context.Context, id uuid.UUID, owner string) error {
	_, err := exec(s.db.WithContext(ctx), ("UPDATE destinations SET leased_by = '', leased_until = ? WHERE id = ? AND leased_by = ?"),
		at(time.Unix(0, 0)), id.String(), owner)
	if err != nil {
		return fmt.Errorf("release destination %s: %w", id, err)
	}
	return nil
}

// PendingEvent is an event waiting in a destination's retry table.
type PendingEvent struct {
	EventID       int64
	MessageID     string
	Type          string
	ReceivedAt    time.Time
	Raw           []byte
	Attempts      int        // attempts made so far
	FirstFailedAt *time.Time // nil for a replayed event not yet tried
	Gone          bool       // the event was deleted (retention, erasure): drop the row
	UserID        string     // the event's ids, so an erased person's retry is never sent
	AnonymousID   string
	PreviousID    string
}

// DueRetries returns up to limit events of destination d whose next attempt
// is due at now, oldest due first.
func (s *Store) DueRetries(ctx context.Context, d Destination, now time.Time, limit int) ([]PendingEvent, error) {
	// The event columns are NULL when retention or an erasure deleted the event.
	var rows []pendingRow
	err := all(s.db.WithContext(ctx), &rows, (`SELECT r.event_id, r.attempts, r.first_failed_at,
		e.message_id, e.type, e.received_at, e.raw, e.user_id, e.anonymous_id, e.previous_id
		FROM destination_retries r LEFT JOIN events e ON e.id = r.event_id AND e.workspace_id = ?
		WHERE r.destination_id = ? AND NOT r.failed AND r.next_at <= ? ORDER BY r.next_at, r.event_id LIMIT ?`),
		d.WorkspaceID.String(), d.ID.String(), at(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due retries of destination %s: %w", d.ID, err)
	}
	return pendingOf(rows), nil
}

// RetryState is what a destination's retry table keeps about one event after
// a failed attempt.
type RetryState struct {
	EventID       int64
	Attempts      int
	NextAt        time.Time
	FirstFailedAt time.Time
	Status        int    // last HTTP status, 0 when there was no answer
	Error         string // why the last attempt failed
	Failed        bool   // given up: waits for "retry failed now"
	// NotBefore is the receiver's Retry-After for this event (zero: none);
	// bringing retries forward after a recovery keeps it.
	NotBefore time.Time
}

// DestinationAttempt is one delivery attempt as a destination's page shows it.
type DestinationAttempt struct {
	At        time.Time
	EventID   int64
	MessageID string
	WebhookID string
	Attempt   int
	Status    int // 0: no answer
	Latency   time.Duration
	Outcome   string // delivered, retrying, failed, paused
	Reason    string
	Response  string // the start of the response body
}

// Bounds on what an attempt row keeps: receivers' answers are untrusted.
const (
	MaxAttemptResponse = 1024
	MaxRetryError      = 500
)

// DeliveryProgress is one step of a delivery worker, written at once.
type DeliveryProgress struct {
	DestinationID uuid.UUID
	Owner         string      // must still hold the lease, else ErrLeaseLost
	Now           time.Time   // the lease must be valid at this time
	Cursor        *FeedCursor // every feed event up to here is handled; nil keeps the cursor
	Done          []int64     // retry rows to drop: delivered, or their event is gone
	Delivered     int64
	GaveUp        int64
	Retry         []RetryState
	Attempts      []DestinationAttempt
	KeepAttempts  int      // attempts kept per destination; 0 keeps 200
	Circuit       *Circuit // the circuit's new state; nil keeps it
	// Drain brings every pending retry forward to now (Retry-After holds):
	// the receiver answered again after its circuit was open.
	Drain bool
}

// SaveDeliveryProgress records a worker step in one transaction: the cursor
// moves only together with the retry rows of the events that failed, so an
// event is always either before the cursor and handled, in the retry table,
// or still ahead of the cursor.
func (s *Store) SaveDeliveryProgress(ctx context.Context, p DeliveryProgress) error {
	id := p.DestinationID.String()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		q := "UPDATE destinations SET delivered_count = delivered_count + ?, failed_count = failed_count + ?"
		args := []any{p.Delivered, p.GaveUp}
		if p.Cursor != nil {
			q += ", cursor_tx = ?, cursor_id = ?"
			args = append(args, p.Cursor.Tx, p.Cursor.ID)
		}
		q += " WHERE id = ? AND leased_by = ? AND leased_until > ?"
		args = append(args, id, p.Owner, at(p.Now))
		n, err := exec(tx, (q), args...)
		if err != nil {
			return fmt.Errorf("move cursor: %w", err)
		}
		if n == 0 {
			return ErrLeaseLost
		}
		// An erasure may have committed while these were in flight: what is
		// kept of an event (a receiver's echo, a retry) is kept only while
		// the event is. On PostgreSQL the erasure lock (shared here,
		// exclusive in an erasure) orders the two: an erasure waits for this
		// commit and then deletes these rows too, or it went first and the
		// check below sees its deletes. SQLite's one writer orders them.
		if s.dialect == Postgres && len(p.Attempts)+len(p.Retry) > 0 {
			if _, err := exec(tx, "SELECT pg_advisory_xact_lock_shared(?)", erasureLock); err != nil {
				return fmt.Errorf("erasure lock: %w", err)
			}
		}
		live, err := storedEvents(tx, p.Attempts, p.Retry)
		if err != nil {
			return err
		}
		for start := 0; start < len(p.Done); start += 500 {
			chunk := p.Done[start:min(start+500, len(p.Done))]
			args := []any{id}
			for _, e := range chunk {
				args = append(args, e)
			}
			q := "DELETE FROM destination_retries WHERE destination_id = ? AND event_id IN (?" + strings.Repeat(",?", len(chunk)-1) + ")"
			if _, err := exec(tx, (q), args...); err != nil {
				return fmt.Errorf("drop %d finished retries: %w", len(chunk), err)
			}
		}
		upsert := (`INSERT INTO destination_retries (destination_id, event_id, attempts, next_at, first_failed_at,
			last_status, last_error, failed, not_before) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (destination_id, event_id) DO UPDATE SET
			attempts = excluded.attempts, next_at = excluded.next_at, first_failed_at = excluded.first_failed_at,
			last_status = excluded.last_status, last_error = excluded.last_error, failed = excluded.failed,
			not_before = excluded.not_before`)
		for _, r := range p.Retry {
			if !live[r.EventID] {
				continue
			}
			if _, err := exec(tx, upsert, id, r.EventID, r.Attempts, at(r.NextAt), at(r.FirstFailedAt),
				r.Status, truncateUTF8(r.Error, MaxRetryError), r.Failed, at(r.NotBefore)); err != nil {
				return fmt.Errorf("keep retry of event %d: %w", r.EventID, err)
			}
		}
		if p.Drain {
			if err := drainRetries(tx, id, p.Now); err != nil {
				return err
			}
		}
		if p.Circuit != nil {
			if err := saveCircuit(tx, id, *p.Circuit); err != nil {
				return err
			}
		}
		attempts := make([]DestinationAttempt, 0, len(p.Attempts))
		for _, a := range p.Attempts {
			if a.EventID == 0 || live[a.EventID] {
				attempts = append(attempts, a)
			}
		}
		if len(attempts) > 0 {
			var b strings.Builder
			b.WriteString(`INSERT INTO destination_attempts (destination_id, at, event_id, message_id, webhook_id, attempt,
				status, latency_ms, outcome, reason, response) VALUES `)
			args := make([]any, 0, len(attempts)*11)
			for i, a := range attempts {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
				args = append(args, id, at(a.At), a.EventID, a.MessageID, a.WebhookID, a.Attempt, a.Status,
					a.Latency.Milliseconds(), a.Outcome, truncateUTF8(a.Reason, maxReasonBytes), truncateUTF8(a.Response, MaxAttemptResponse))
			}
			if _, err := exec(tx, (b.String()), args...); err != nil {
				return fmt.Errorf("record %d attempts: %w", len(attempts), err)
			}
			keep := p.KeepAttempts
			if keep <= 0 {
				keep = 200
			}
			// Everything older than the keep-th newest row goes; one index range.
			if _, err := exec(tx, (`DELETE FROM destination_attempts WHERE destination_id = ? AND id <
				(SELECT id FROM destination_attempts WHERE destination_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
				id, id, keep-1); err != nil {
				return fmt.Errorf("trim attempts: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			return err
		}
		return fmt.Errorf("save progress of destination %s: %w", id, err)
	}
	return nil
}

// MaxReplayEvents bounds one replay request.
const MaxReplayEvents = 1_000_000

// ReplayDestination queues every event of the destination's workspace that
// matches f (type, event name, user, received_at range; the destination's
// own type list applies too) to be sent again now. Events already waiting
// are moved to now; a replayed event keeps its webhook-id. It returns how
// many events were queued.
func (s *Store) ReplayDestination(ctx context.Context, d Destination, f EventFilter) (int64, error) {
	conds, args := replayConds(d, f)
	args = append([]any{d.ID.String(), at(time.Now())}, args...)
	args = append(args, MaxReplayEvents)
	q := `INSERT INTO destination_retries (destination_id, event_id, attempts, next_at)
		SELECT ?, id, 0, ? FROM events WHERE ` + conds + ` ORDER BY id LIMIT ?
		ON CONFLICT (destination_id, event_id) DO UPDATE SET next_at = excluded.next_at, failed = FALSE`
	if s.dialect == SQLite {
		// SQLite needs the SELECT of an upsert wrapped so ON CONFLICT is not
		// read as part of it.
		q = `INSERT INTO destination_retries (destination_id, event_id, attempts, next_at)
		SELECT * FROM (SELECT ?, id, 0, ? FROM events WHERE ` + conds + ` ORDER BY id LIMIT ?) WHERE true
		ON CONFLICT (destination_id, event_id) DO UPDATE SET next_at = excluded.next_at, failed = FALSE`
	}
	n, err := exec(s.db.WithContext(ctx), q, args...)
	if err != nil {
		return 0, fmt.Errorf("replay to destination %s: %w", d.ID, err)
	}
	return n, nil
}

// CountReplay says how many events ReplayDestination(d, f) would queue (at
// most MaxReplayEvents): the events page states it before an admin confirms.
func (s *Store) CountReplay(ctx context.Context, d Destination, f EventFilter) (int64, error) {
	conds, args := replayConds(d, f)
	args = append(args, MaxReplayEvents)
	var n int64
	if err := first(s.db.WithContext(ctx), &n, "SELECT count(*) FROM (SELECT 1 FROM events WHERE "+conds+" LIMIT ?) AS r", args...); err != nil {
		return 0, fmt.Errorf("count replay to destination %s: %w", d.ID, err)
	}
	return n, nil
}

// replayConds is the WHERE of the events a replay of f to d sends: the
// filter, the destination's own types, never Inlet's own test events.
func replayConds(d Destination, f EventFilter) (string, []any) {
	conds := []string{"workspace_id = ?", "message_id NOT LIKE '" + TestMessagePrefix + "%'"}
	args := []any{d.WorkspaceID.String()}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	// Event and user ignore case, like the events page whose filter is
	// replayed (its count is the one the admin confirmed).
	if f.Event != "" {
		add("lower(event) = lower(?)", f.Event)
	}
	if f.User != "" {
		add("(lower(user_id) = lower(?) OR lower(anonymous_id) = lower(?))", f.User, f.User)
	}
	if !f.From.IsZero() {
		add("received_at >= ?", at(f.From))
	}
	if !f.To.IsZero() {
		add("received_at < ?", at(f.To))
	}
	if len(d.Types) > 0 {
		ph := "?" + strings.Repeat(",?", len(d.Types)-1)
		ts := make([]any, len(d.Types))
		for i, t := range d.Types {
			ts[i] = t
		}
		add("type IN ("+ph+")", ts...)
	}
	return strings.Join(conds, " AND "), args
}

// RetryDestinationNow makes every event waiting for destination d (given up
// or not) due now, with a fresh retry period.
func (s *Store) RetryDestinationNow(ctx context.Context, d Destination) (int64, error) {
	n, err := exec(s.db.WithContext(ctx), (`UPDATE destination_retries SET failed = FALSE, next_at = ?,
		first_failed_at = NULL, attempts = 0 WHERE destination_id = ?`), at(time.Now()), d.ID.String())
	if err != nil {
		return 0, fmt.Errorf("retry destination %s now: %w", d.ID, err)
	}
	return n, nil
}

// DestinationStats are the health figures of a destination's page.
type DestinationStats struct {
	Retrying int64 // events waiting for another attempt (or a replay)
	Failed   int64 // events given up on, waiting for "retry failed now"
	// OldestUndelivered is when the oldest event not yet delivered (waiting
	// in the retry table or still ahead of the cursor) was received; nil
	// when the destination is up to date.
	OldestUndelivered *time.Time
}

// DestinationStats reads the counts and the lag of destination d.
func (s *Store) DestinationStats(ctx context.Context, d Destination) (DestinationStats, error) {
	var st DestinationStats
	var retrying, failed sql.NullInt64
	err := s.db.WithContext(ctx).Raw((`SELECT SUM(CASE WHEN failed THEN 0 ELSE 1 END), SUM(CASE WHEN failed THEN 1 ELSE 0 END)
		FROM destination_retries WHERE destination_id = ?`), d.ID.String()).Row().Scan(&retrying, &failed)
	if err != nil {
		return st, fmt.Errorf("stats of destination %s: %w", d.ID, err)
	}
	st.Retrying, st.Failed = retrying.Int64, failed.Int64
	var oldest dbTime
	err = s.db.WithContext(ctx).Raw((`SELECT min(e.received_at) FROM destination_retries r
		JOIN events e ON e.id = r.event_id WHERE r.destination_id = ? AND NOT r.failed`), d.ID.String()).Row().Scan(&oldest)
	if err != nil {
		return st, fmt.Errorf("lag of destination %s: %w", d.ID, err)
	}
	st.OldestUndelivered = oldest.ptr()
	next, err := s.ReadFeed(ctx, d.WorkspaceID, d.Cursor, 1)
	if err != nil {
		return st, fmt.Errorf("lag of destination %s: %w", d.ID, err)
	}
	if len(next) == 1 && (st.OldestUndelivered == nil || next[0].ReceivedAt.Before(*st.OldestUndelivered)) {
		t := next[0].ReceivedAt
		st.OldestUndelivered = &t
	}
	return st, nil
}

// DestinationAttempts returns the newest attempts of destination id.
func (s *Store) DestinationAttempts(ctx context.Context, id uuid.UUID, limit int) ([]DestinationAttempt, error) {
	var rows []struct {
		At                                              dbTime
		EventID, LatencyMs                              int64
		MessageID, WebhookID, Outcome, Reason, Response string
		Attempt, Status                                 int
	}
	err := all(s.db.WithContext(ctx), &rows, (`SELECT at, event_id, message_id, webhook_id, attempt, status, latency_ms,
		outcome, reason, response FROM destination_attempts WHERE destination_id = ? ORDER BY id DESC LIMIT ?`), id.String(), limit)
	if err != nil {
		return nil, fmt.Errorf("attempts of destination %s: %w", id, err)
	}
	var out []DestinationAttempt
	for _, r := range rows {
		out = append(out, DestinationAttempt{At: r.At.Time, EventID: r.EventID, MessageID: r.MessageID, WebhookID: r.WebhookID,
			Attempt: r.Attempt, Status: r.Status, Latency: time.Duration(r.LatencyMs) * time.Millisecond, Outcome: r.Outcome,
			Reason: r.Reason, Response: r.Response})
	}
	return out, nil
}

// AddDestinationAttempt records one attempt made outside a worker (the
// dashboard's test event).
func (s *Store) AddDestinationAttempt(ctx context.Context, id uuid.UUID, a DestinationAttempt) error {
	_, err := exec(s.db.WithContext(ctx), (`INSERT INTO destination_attempts (destination_id, at, event_id, message_id,
		webhook_id, attempt, status, latency_ms, outcome, reason, response) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
		id.String(), at(a.At), a.EventID, a.MessageID, a.WebhookID, a.Attempt, a.Status, a.Latency.Milliseconds(),
		a.Outcome, truncateUTF8(a.Reason, maxReasonBytes), truncateUTF8(a.Response, MaxAttemptResponse))
	if err != nil {
		return fmt.Errorf("record attempt of destination %s: %w", id, err)
	}
	return nil
}

// ExistingEventIDs says which of ids are still stored in ws: a delivery
// worker checks just before sending, so an event an erasure deleted after
// the worker read it is not sent.
func (s *Store) ExistingEventIDs(ctx context.Context, ws uuid.UUID, ids []int64) (map[int64]bool, error) {
	out := make(map[int64]bool, len(ids))
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		args := []any{ws.String()}
		for _, id := range part {
			args = append(args, id)
		}
		var found []int64
		if err := all(s.db.WithContext(ctx), &found, "SELECT id FROM events WHERE workspace_id = ? AND id IN ("+placeholders(len(part))+")", args...); err != nil {
			return nil, fmt.Errorf("events still stored: %w", err)
		}
		for _, id := range found {
			out[id] = true
		}
	}
	return out, nil
}

// erasureLock is the advisory lock an erasure holds exclusively and a
// delivery step's bookkeeping shares.
var erasureLock = lockKey("erasure")

// storedEvents says which of the events named by attempts and retries are
// still stored.
func storedEvents(tx *gorm.DB, attempts []DestinationAttempt, retries []RetryState) (map[int64]bool, error) {
	seen := map[int64]bool{}
	var ids []int64
	add := func(id int64) {
		if id != 0 && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, a := range attempts {
		add(a.EventID)
	}
	for _, r := range retries {
		add(r.EventID)
	}
	live := make(map[int64]bool, len(ids))
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		args := make([]any, 0, len(part))
		for _, id := range part {
			args = append(args, id)
		}
		q := "SELECT id FROM events WHERE id IN (" + placeholders(len(part)) + ")"
		var rows []struct{ ID int64 }
		if err := all(tx, &rows, q, args...); err != nil {
			return nil, fmt.Errorf("events still stored: %w", err)
		}
		for _, r := range rows {
			live[r.ID] = true
		}
	}
	return live, nil
}
