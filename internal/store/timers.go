package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Timer is one durable timer: kind names the handler, key what it is about.
type Timer struct {
	ID          int64
	Kind        string
	WorkspaceID uuid.UUID
	Key         string
	DueAt       time.Time
	Attempts    int
}

type timerRow struct {
	ID          int64
	Kind        string
	WorkspaceID string
	Key         string
	DueAt       dbTime
	Attempts    int
}

// TimerSet puts (or, with a zero Due, removes) one timer.
type TimerSet struct {
	Key string
	Due time.Time
}

// SetTimers schedules timers of one kind and workspace in their own
// transaction; a timer already set for a key moves to the new instant.
func (s *Store) SetTimers(ctx context.Context, kind string, ws uuid.UUID, sets []TimerSet) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return setTimers(tx, kind, ws, sets) })
}

// setTimers is SetTimers inside a caller's transaction, so a timer commits
// (or not) with the state that asked for it.
func setTimers(tx *gorm.DB, kind string, ws uuid.UUID, sets []TimerSet) error {
	// The last word on a key wins; removals go in one statement per chunk,
	// the rest in one multi-row upsert.
	last := make(map[string]time.Time, len(sets))
	order := make([]string, 0, len(sets))
	for _, t := range sets {
		if _, seen := last[t.Key]; !seen {
			order = append(order, t.Key)
		}
		last[t.Key] = t.Due
	}
	var gone []string
	var rows [][]any
	for _, k := range order {
		if due := last[k]; due.IsZero() {
			gone = append(gone, k)
		} else {
			rows = append(rows, []any{kind, ws.String(), k, at(due)})
		}
	}
	err := chunks(gone, func(part []string) error {
		return tx.Exec("DELETE FROM timers WHERE kind = ? AND workspace_id = ? AND key IN ("+placeholders(len(part))+")",
			strArgs([]any{kind, ws.String()}, part)...).Error
	})
	if err == nil {
		err = execRows(tx, "INSERT INTO timers (kind, workspace_id, key, due_at)",
			"ON CONFLICT (kind, workspace_id, key) DO UPDATE SET due_at = excluded.due_at, claimed_until = NULL", rows)
	}
	if err != nil {
		return fmt.Errorf("set %d %s timers: %w", len(sets), kind, err)
	}
	return nil
}

// ClaimTimers takes up to limit timers due by now and not claimed by
// another worker, marking them claimed for lease. On PostgreSQL rows locked
// by another instance's claim are skipped, not waited for. With kinds, only
// timers of those kinds are claimed (a worker takes only what it can fire).
func (s *Store) ClaimTimers(ctx context.Context, now time.Time, lease time.Duration, limit int, kinds ...string) ([]Timer, error) {
	// The due ids are picked once (idsIn): as "id IN (SELECT … LIMIT n FOR
	// UPDATE SKIP LOCKED)", PostgreSQL with the statistics of an emptied
	// table ran the subquery again for every row (13 s for a burst of
	// 10,000 window edges: the worker gave up on it and began again, and
	// the timers never fired), each run skipping the rows the previous
	// ones had locked, so it claimed far more than n.
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	kindCond := ""
	args := []any{at(now.Add(lease)), at(now), at(now)}
	if len(kinds) > 0 {
		kindCond = " AND kind IN (" + placeholders(len(kinds)) + ")"
		args = strArgs(args, kinds)
	}
	args = append(args, limit)
	var rows []timerRow
	due := `SELECT id FROM timers WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until < ?)` + kindCond + `
		ORDER BY due_at LIMIT ?` + lock
	err := s.db.WithContext(ctx).Raw(`UPDATE timers SET claimed_until = ?, attempts = attempts + 1 WHERE `+s.idsIn(due)+`
		RETURNING id, kind, workspace_id, key, due_at, attempts`, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim timers: %w", err)
	}
	out := make([]Timer, 0, len(rows))
	for _, r := range rows {
		ws, err := uuid.Parse(r.WorkspaceID)
		if err != nil {
			return nil, fmt.Errorf("timer %d: workspace id %q: %w", r.ID, r.WorkspaceID, err)
		}
		out = append(out, Timer{ID: r.ID, Kind: r.Kind, WorkspaceID: ws, Key: r.Key, DueAt: r.DueAt.Time, Attempts: r.Attempts})
	}
	return out, nil
}

// idsIn is the condition "id is one of the ids sub selects", with sub
// evaluated once. On PostgreSQL "id IN (sub)" with a LIMIT in sub is a
// semi-join the planner, when its statistics say the table is nearly
// empty (emptied, analyzed, then filled by a burst), runs with sub
// re-executed for every row of the table: quadratic, seconds to minutes.
// "id = ANY(ARRAY(sub))" makes sub an InitPlan run once, and the ids are
// found by primary key whatever the statistics say.
func (s *Store) idsIn(sub string) string {
	if s.dialect == Postgres {
		return "id = ANY(ARRAY(" + sub + "))"
	}
	return "id IN (" + sub + ")"
}

// FinishTimers removes fired timers, except those moved to a new instant
// while their handler ran (their claim is already cleared by the move).
func (s *Store) FinishTimers(ctx context.Context, fired []Timer) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, t := range fired {
			if err := tx.Exec("DELETE FROM timers WHERE id = ? AND due_at = ?", t.ID, at(t.DueAt)).Error; err != nil {
				return fmt.Errorf("finish timer %d: %w", t.ID, err)
			}
		}
		return nil
	})
}

// ReleaseTimers hands claimed timers back (a worker stopping mid-batch):
// they can be claimed again at once.
func (s *Store) ReleaseTimers(ctx context.Context, ts []Timer) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		for _, t := range ts {
			if err := tx.Exec("UPDATE timers SET claimed_until = NULL WHERE id = ?", t.ID).Error; err != nil {
				return fmt.Errorf("release timer %d: %w", t.ID, err)
			}
		}
		return nil
	})
}

// NextTimer is when the earliest timer is due; zero when there is none.
func (s *Store) NextTimer(ctx context.Context) (time.Time, error) {
	var next dbTime
	if err := s.db.WithContext(ctx).Raw("SELECT min(due_at) FROM timers").Scan(&next).Error; err != nil {
		return time.Time{}, fmt.Errorf("next timer: %w", err)
	}
	return next.Time, nil
}

// DueTimers lists a workspace's timers of kind due by now, earliest
// first, inside the audience transaction: a batch applies them before its
// events, so a change a window's edge caused takes effect at the edge even
// when an event reaches the profile before the timer worker does.
func (a *AudienceTx) DueTimers(kind string, now time.Time, limit int) ([]Timer, error) {
	var rows []timerRow
	if err := a.tx.Raw("SELECT id, kind, workspace_id, key, due_at, attempts FROM timers WHERE kind = ? AND workspace_id = ? AND due_at <= ? ORDER BY due_at LIMIT ?",
		kind, a.ws.String(), at(now), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("due %s timers of %s: %w", kind, a.ws, err)
	}
	out := make([]Timer, 0, len(rows))
	for _, r := range rows {
		out = append(out, Timer{ID: r.ID, Kind: r.Kind, WorkspaceID: a.ws, Key: r.Key, DueAt: r.DueAt.Time, Attempts: r.Attempts})
	}
	return out, nil
}

// TimerDues reads when the timers of keys are due (absent keys have none).
func (a *AudienceTx) TimerDues(kind string, keys []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(keys))
	err := chunks(dedupeStrings(keys), func(part []string) error {
		var rows []struct {
			Key   string
			DueAt dbTime
		}
		if err := a.tx.Raw("SELECT key, due_at FROM timers WHERE kind = ? AND workspace_id = ? AND key IN ("+placeholders(len(part))+")",
			strArgs([]any{kind, a.ws.String()}, part)...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read %s timers: %w", kind, err)
		}
		for _, r := range rows {
			out[r.Key] = r.DueAt.Time
		}
		return nil
	})
	return out, err
}
