package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// forUpdate locks the rows read on PostgreSQL (SQLite has one writer).
func (j *JourneyTx) forUpdate() string {
	if j.pg {
		return " FOR UPDATE"
	}
	return ""
}

// LockCursor reads the workspace's journey cursor and, on PostgreSQL,
// locks it until the transaction ends: followers of one workspace take
// turns, so an event is handled by one of them.
func (j *JourneyTx) LockCursor() (FeedCursor, bool, error) {
	var r struct {
		CursorTx int64
		CursorID int64
	}
	err := first(j.tx, &r, "SELECT cursor_tx, cursor_id FROM journey_cursors WHERE workspace_id = ?"+j.forUpdate(), j.ws.String())
	if errors.Is(err, ErrNotFound) {
		return FeedCursor{}, false, nil
	}
	if err != nil {
		return FeedCursor{}, false, fmt.Errorf("lock journey cursor of %s: %w", j.ws, err)
	}
	return FeedCursor{Tx: r.CursorTx, ID: r.CursorID}, true, nil
}

// Instance reads one instance and locks it (PostgreSQL) for the rest of
// the transaction; ErrNotFound when it is gone (erased, deleted).
func (j *JourneyTx) Instance(id int64) (JourneyInstance, error) {
	var r instanceRecord
	err := first(j.tx, &r, "SELECT "+instanceColumns+" FROM journey_instances WHERE id = ? AND workspace_id = ?"+j.forUpdate(), id, j.ws.String())
	if err != nil {
		return JourneyInstance{}, err
	}
	return r.instance(), nil
}

// ActiveInstances lists, locked, a user's running instances of the given
// journeys (those that wait for an event or exit on one).
func (j *JourneyTx) ActiveInstances(userID string, journeys []string) ([]JourneyInstance, error) {
	if len(journeys) == 0 {
		return nil, nil
	}
	var recs []instanceRecord
	if err := all(j.tx, &recs, "SELECT "+instanceColumns+" FROM journey_instances WHERE workspace_id = ? AND user_id = ? AND status = 'active' AND journey_key IN ("+
		placeholders(len(journeys))+") ORDER BY id"+j.forUpdate(), strArgs([]any{j.ws.String(), userID}, journeys)...); err != nil {
		return nil, fmt.Errorf("running instances of a user: %w", err)
	}
	out := make([]JourneyInstance, len(recs))
	for i, r := range recs {
		out[i] = r.instance()
	}
	return out, nil
}

// Passed records that an instance went past a step (counted once).
func (j *JourneyTx) Passed(journey string, id int64, stepID string) error {
	_, err := exec(j.tx, "INSERT INTO journey_passes (workspace_id, journey_key, instance_id, step_id) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
		j.ws.String(), journey, id, stepID)
	if err != nil {
		return fmt.Errorf("record step %q passed: %w", stepID, err)
	}
	return nil
}

// SetTimers schedules (zero Due: removes) timers of kind in this
// transaction: a wait commits with the step that starts it.
func (j *JourneyTx) SetTimers(kind string, sets []TimerSet) error {
	return setTimers(j.tx, kind, j.ws, sets)
}

// Hold parks an instance whose timer came due while its journey is
// disabled; ReleaseHeld schedules it again once the journey is enabled.
func (j *JourneyTx) Hold(id int64, timerKey string, due time.Time) error {
	_, err := exec(j.tx, "UPDATE journey_instances SET held_due = ?, held_key = ? WHERE id = ?", at(due), timerKey, id)
	return err
}

// JourneyEnabled says whether a journey exists and is enabled.
func (j *JourneyTx) JourneyEnabled(key string) (bool, error) {
	var en []bool
	if err := all(j.tx, &en, "SELECT enabled FROM journeys WHERE workspace_id = ? AND key = ?", j.ws.String(), key); err != nil {
		return false, err
	}
	return len(en) == 1 && en[0], nil
}

// ReleaseHeld schedules again, at their held due time (the past: they
// fire at once), up to limit timers of kind held while the journey was
// disabled, in one transaction. It says how many it released.
func (s *Store) ReleaseHeld(ctx context.Context, ws uuid.UUID, journey, kind string, limit int) (int, error) {
	var held []int64
	if err := all(s.db.WithContext(ctx), &held, "SELECT id FROM journey_instances WHERE workspace_id = ? AND journey_key = ? AND held_due IS NOT NULL LIMIT 1",
		ws.String(), journey); err != nil || len(held) == 0 {
		return 0, err // the common case, without a write transaction
	}
	var n int
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var recs []struct {
			ID      int64
			HeldKey string
			HeldDue dbTime
		}
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE SKIP LOCKED"
		}
		if err := all(tx, &recs, "SELECT id, held_key, held_due FROM journey_instances WHERE workspace_id = ? AND journey_key = ? AND held_due IS NOT NULL "+
			"AND status = 'active' LIMIT ?"+lock, ws.String(), journey, limit); err != nil {
			return fmt.Errorf("held instances of %q: %w", journey, err)
		}
		sets := make([]TimerSet, 0, len(recs))
		ids := make([]string, 0, len(recs))
		for _, r := range recs {
			sets = append(sets, TimerSet{Key: r.HeldKey, Due: r.HeldDue.Time})
			ids = append(ids, fmt.Sprint(r.ID))
		}
		if err := setTimers(tx, kind, ws, sets); err != nil {
			return err
		}
		n = len(recs)
		return chunks(ids, func(part []string) error {
			return tx.Exec("UPDATE journey_instances SET held_due = NULL, held_key = '' WHERE id IN ("+placeholders(len(part))+")", strArgs(nil, part)...).Error
		})
	})
	return n, err
}

// LegacyWait is an instance waiting the pre-timer way (wake_at).
type LegacyWait struct {
	WorkspaceID uuid.UUID
	ID          int64
	JourneyKey  string
	Version     int
	Step        int
	WakeAt      time.Time
}

// LegacyWaits lists instances that wait on wake_at (made before timers).
func (s *Store) LegacyWaits(ctx context.Context, limit int) ([]LegacyWait, error) {
	var recs []instanceRecord
	if err := all(s.db.WithContext(ctx), &recs, "SELECT "+instanceColumns+" FROM journey_instances WHERE status = 'active' AND wake_at IS NOT NULL LIMIT ?", limit); err != nil {
		return nil, fmt.Errorf("legacy journey waits: %w", err)
	}
	out := make([]LegacyWait, 0, len(recs))
	for _, r := range recs {
		ws, err := uuid.Parse(r.WorkspaceID)
		if err != nil {
			continue
		}
		out = append(out, LegacyWait{WorkspaceID: ws, ID: r.ID, JourneyKey: r.JourneyKey, Version: r.Version, Step: r.Step, WakeAt: r.WakeAt.Time})
	}
	return out, nil
}

// JourneyInstanceByID reads one instance of a workspace; ErrNotFound when
// there is none.
func (s *Store) JourneyInstanceByID(ctx context.Context, ws uuid.UUID, id int64) (JourneyInstance, error) {
	var r instanceRecord
	err := first(s.db.WithContext(ctx), &r, "SELECT "+instanceColumns+" FROM journey_instances WHERE id = ? AND workspace_id = ?", id, ws.String())
	if err != nil {
		return JourneyInstance{}, err
	}
	return r.instance(), nil
}

// JourneyInstancesByID reads many instances at once (a timer batch's),
// unlocked, by id; ids that are gone are absent.
func (s *Store) JourneyInstancesByID(ctx context.Context, ws uuid.UUID, ids []int64) (map[int64]JourneyInstance, error) {
	out := make(map[int64]JourneyInstance, len(ids))
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		args := make([]any, 0, len(part)+1)
		args = append(args, ws.String())
		for _, id := range part {
			args = append(args, id)
		}
		var rs []instanceRecord
		if err := all(s.db.WithContext(ctx), &rs, "SELECT "+instanceColumns+" FROM journey_instances WHERE workspace_id = ? AND id IN ("+
			placeholders(len(part))+")", args...); err != nil {
			return nil, fmt.Errorf("journey instances by id: %w", err)
		}
		for _, r := range rs {
			in := r.instance()
			out[in.ID] = in
		}
	}
	return out, nil
}
