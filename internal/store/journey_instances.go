package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// JourneyInstance is one user's way through one version of a journey.
type JourneyInstance struct {
	ID         int64
	JourneyKey string
	Version    int
	UserID     string
	Status     string    // active, completed, exited
	Step       int       // before step ids: the top-level index (legacy rows)
	StepID     string    // the step it is at (active) or ended at
	MatchKey   string    // its match values (JSON), for reentry always
	HeldDue    time.Time // a timer held while the journey is disabled
	WakeAt     time.Time // legacy: a wait's end before timers
	Event      string    // the triggering event's JSON
	EnteredAt  time.Time
	UpdatedAt  time.Time
}

type instanceRecord struct {
	WorkspaceID string
	ID          int64
	JourneyKey  string
	Version     int
	UserID      string
	Status      string
	Step        int
	StepID      string
	MatchKey    string
	HeldDue     dbTime
	WakeAt      dbTime
	Event       string
	EnteredAt   dbTime
	UpdatedAt   dbTime
}

func (r instanceRecord) instance() JourneyInstance {
	return JourneyInstance{ID: r.ID, JourneyKey: r.JourneyKey, Version: r.Version, UserID: r.UserID, Status: r.Status,
		Step: r.Step, StepID: r.StepID, MatchKey: r.MatchKey, HeldDue: r.HeldDue.Time, WakeAt: r.WakeAt.Time, Event: r.Event, EnteredAt: r.EnteredAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

const instanceColumns = "workspace_id, id, journey_key, version, user_id, status, step, step_id, match_key, held_due, wake_at, event, entered_at, updated_at"

// JourneyTx is one transaction of the journey engine: entering, advancing,
// scheduling and queuing sends commit together, or none of them does.
type JourneyTx struct {
	tx *gorm.DB
	ws uuid.UUID
	pg bool
}

// JourneyTx runs fn in one transaction for ws.
func (s *Store) JourneyTx(ctx context.Context, ws uuid.UUID, fn func(*JourneyTx) error) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return fn(&JourneyTx{tx: tx, ws: ws, pg: s.dialect == Postgres}) })
}

// SetCursor moves the workspace's journey follower.
func (j *JourneyTx) SetCursor(c FeedCursor) error {
	_, err := exec(j.tx, "INSERT INTO journey_cursors (workspace_id, cursor_tx, cursor_id) VALUES (?,?,?) "+
		"ON CONFLICT (workspace_id) DO UPDATE SET cursor_tx = excluded.cursor_tx, cursor_id = excluded.cursor_id",
		j.ws.String(), c.Tx, c.ID)
	if err != nil {
		return fmt.Errorf("move journey cursor of %s: %w", j.ws, err)
	}
	return nil
}

// NewInstance is an instance about to enter a journey.
type NewInstance struct {
	Journey   string
	Version   int
	UserID    string
	Reentry   string // never: once per user ever; always: one running per user and match values
	TriggerID string // the triggering event's messageId (one instance per trigger)
	Event     string // the triggering event's JSON
	MatchKey  string // the triggering event's match values
}

// Enter makes an instance unless reentry forbids it: "never" refuses a user
// who ever entered the journey, "always" one with a running instance of
// the same match values. It reports the new instance's id, 0 when none
// was made. A unique index backs both the trigger and the running rule.
func (j *JourneyTx) Enter(in NewInstance, now time.Time) (int64, error) {
	q := "SELECT count(*) FROM journey_instances WHERE workspace_id = ? AND journey_key = ? AND user_id = ?"
	args := []any{j.ws.String(), in.Journey, in.UserID}
	if in.Reentry == "always" {
		q += " AND status = 'active' AND match_key = ?"
		args = append(args, in.MatchKey)
	}
	var n int64
	if err := first(j.tx, &n, q, args...); err != nil {
		return 0, fmt.Errorf("instances of %q: %w", in.Journey, err)
	}
	if n > 0 {
		return 0, nil
	}
	var id int64
	err := first(j.tx, &id, "INSERT INTO journey_instances (workspace_id, journey_key, version, user_id, status, step, step_id, match_key, event, trigger_id, "+
		"entered_at, updated_at) VALUES (?,?,?,?,'active',0,'',?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id",
		j.ws.String(), in.Journey, in.Version, in.UserID, in.MatchKey, in.Event, in.TriggerID, at(now), at(now))
	if err == ErrNotFound {
		return 0, nil // this event already entered it
	}
	if err != nil {
		return 0, fmt.Errorf("enter journey %q: %w", in.Journey, err)
	}
	return id, nil
}

// Move sets where an instance is: the step it is at (or ended at) and its
// status; a hold is lifted.
func (j *JourneyTx) Move(id int64, stepID, status string, now time.Time) error {
	_, err := exec(j.tx, "UPDATE journey_instances SET step_id = ?, status = ?, wake_at = NULL, held_due = NULL, held_key = '', updated_at = ? WHERE id = ?",
		stepID, status, at(now), id)
	if err != nil {
		return fmt.Errorf("move journey instance %d: %w", id, err)
	}
	return nil
}

// QueuedMessage is a send intent recorded with the step that makes it.
type QueuedMessage struct {
	SendKey    string
	InstanceID int64
	JourneyKey string
	StepID     string
	UserID     string
	Template   string
	Group      string
}

// Queue records a send intent (the outbox); a second one with the same
// send key is a no-op.
func (j *JourneyTx) Queue(m QueuedMessage, now time.Time) error {
	_, err := exec(j.tx, "INSERT INTO messages (workspace_id, send_key, instance_id, journey_key, step_id, user_id, template_key, group_key, "+
		"status, next_at, created_at, at) VALUES (?,?,?,?,?,?,?,?,'queued',?,?,?) ON CONFLICT DO NOTHING",
		j.ws.String(), m.SendKey, m.InstanceID, m.JourneyKey, m.StepID, m.UserID, m.Template, m.Group, at(now), at(now), at(now))
	if err != nil {
		return fmt.Errorf("queue %s: %w", m.SendKey, err)
	}
	return nil
}

// UserJourneys lists a user's instances, newest first.
func (s *Store) UserJourneys(ctx context.Context, ws uuid.UUID, userID string, limit int) ([]JourneyInstance, error) {
	var recs []instanceRecord
	if err := all(s.db.WithContext(ctx), &recs, "SELECT "+instanceColumns+" FROM journey_instances WHERE workspace_id = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
		ws.String(), userID, limit); err != nil {
		return nil, fmt.Errorf("journeys of a user: %w", err)
	}
	out := make([]JourneyInstance, len(recs))
	for i, r := range recs {
		out[i] = r.instance()
	}
	return out, nil
}

// JourneyStats is a journey's counts, the dashboard's contract: instances
// by status, and per step id how many active instances are at that step
// now (waiting in a wait or waitFor, or held there while the journey is
// disabled) and how many instances have gone past it.
type JourneyStats struct {
	Entered   int64
	Active    int64
	Completed int64
	Exited    int64
	AtStep    map[string]int64 // step id → active instances at it now
	Passed    map[string]int64 // step id → instances that went past it
	Sent      map[string]int64 // step id → emails sent
}

// JourneyStats counts a journey's instances (every version: step ids keep
// their meaning across versions).
func (s *Store) JourneyStats(ctx context.Context, ws uuid.UUID, key string) (JourneyStats, error) {
	db := s.db.WithContext(ctx)
	var rows []struct {
		Status string
		StepID string
		N      int64
	}
	if err := all(db, &rows, "SELECT status, step_id, count(*) AS n FROM journey_instances WHERE workspace_id = ? AND journey_key = ? GROUP BY status, step_id",
		ws.String(), key); err != nil {
		return JourneyStats{}, fmt.Errorf("stats of journey %q: %w", key, err)
	}
	st := JourneyStats{AtStep: map[string]int64{}, Passed: map[string]int64{}, Sent: map[string]int64{}}
	for _, r := range rows {
		st.Entered += r.N
		switch r.Status {
		case "active":
			st.Active += r.N
			if r.StepID != "" { // "" is an instance entered a moment ago, before its first step
				st.AtStep[r.StepID] += r.N
			}
		case "completed":
			st.Completed += r.N
		default:
			st.Exited += r.N
		}
	}
	var counts []struct {
		StepID string
		N      int64
	}
	if err := all(db, &counts, "SELECT step_id, count(*) AS n FROM journey_passes WHERE workspace_id = ? AND journey_key = ? GROUP BY step_id",
		ws.String(), key); err != nil {
		return JourneyStats{}, fmt.Errorf("passes of journey %q: %w", key, err)
	}
	for _, r := range counts {
		st.Passed[r.StepID] = r.N
	}
	counts = nil
	if err := all(db, &counts, "SELECT step_id, count(*) AS n FROM messages WHERE workspace_id = ? AND journey_key = ? AND status = 'sent' GROUP BY step_id",
		ws.String(), key); err != nil {
		return JourneyStats{}, fmt.Errorf("sends of journey %q: %w", key, err)
	}
	for _, r := range counts {
		st.Sent[r.StepID] = r.N
	}
	return st, nil
}

// UserJourney is one of a user's journey instances, for the profile page.
type UserJourney struct {
	ID        int64     `json:"id"`
	Journey   string    `json:"journey"`
	Version   int       `json:"version"`
	StepID    string    `json:"step"`   // the step it is at (active) or ended at
	Status    string    `json:"status"` // active, completed, exited
	Since     time.Time `json:"since"`  // when it reached that step or status
	EnteredAt time.Time `json:"enteredAt"`
}

// UserJourneyInstances lists a user's journey instances, newest first.
func (s *Store) UserJourneyInstances(ctx context.Context, ws uuid.UUID, userID string, limit int) ([]UserJourney, error) {
	ins, err := s.UserJourneys(ctx, ws, userID, limit)
	if err != nil {
		return nil, err
	}
	out := make([]UserJourney, len(ins))
	for i, in := range ins {
		out[i] = UserJourney{ID: in.ID, Journey: in.JourneyKey, Version: in.Version, StepID: in.StepID, Status: in.Status,
			Since: in.UpdatedAt, EnteredAt: in.EnteredAt}
	}
	return out, nil
}

// lockKey is a stable 63-bit key for an advisory lock.
func lockKey(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64() >> 1)
}

// InstanceEvent is the triggering event's JSON of an instance ("" when
// the instance is gone).
func (s *Store) InstanceEvent(ctx context.Context, id int64) (string, error) {
	var ev string
	err := first(s.db.WithContext(ctx), &ev, "SELECT event FROM journey_instances WHERE id = ?", id)
	if err == ErrNotFound {
		return "", nil
	}
	return ev, err
}

// Version reads a journey version's definition inside the transaction.
func (j *JourneyTx) Version(key string, version int) (string, error) {
	var def string
	if err := first(j.tx, &def, "SELECT definition FROM journey_versions WHERE workspace_id = ? AND key = ? AND version = ?",
		j.ws.String(), key, version); err != nil {
		return "", fmt.Errorf("journey %q version %d: %w", key, version, err)
	}
	return def, nil
}
