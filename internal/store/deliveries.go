package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DeliveryAttempt is one delivery as the connection status remembers it.
type DeliveryAttempt struct {
	WorkspaceID uuid.UUID
	At          time.Time
	Source      string
	Outcome     string
	Reason      string
	Status      int
	Accepted    int
	Duplicates  int
	Suppressed  int    // events of erased (suppressed) ids, acknowledged and not stored
	Credential  string // which secret or write key verified it, e.g. "previous …a1b2"
}

// DeliveryMinute counts one minute's deliveries of one outcome. Saved rows
// are added to what is stored, so each flush passes only what is new.
type DeliveryMinute struct {
	WorkspaceID uuid.UUID
	Minute      time.Time
	Outcome     string
	Requests    int64
	Accepted    int64
	Duplicates  int64
	Suppressed  int64
}

// DeliveryHistory is what the connection status reloads at start.
type DeliveryHistory struct {
	Attempts  []DeliveryAttempt // per workspace newest first
	Minutes   []DeliveryMinute
	LastEvent map[uuid.UUID]time.Time // newest received_at per workspace with events
}

// maxReasonBytes bounds a stored reason; reasons can quote what a sender sent.
const maxReasonBytes = 500

// maxCredentialBytes bounds a stored credential label (a key name is in it).
const maxCredentialBytes = 200

type deliveryAttemptRow struct {
	ID          int64 `gorm:"primaryKey"`
	WorkspaceID string
	At          dbTime
	Source      string
	Outcome     string
	Reason      string
	Status      int
	Accepted    int
	Duplicates  int
	Suppressed  int
	Credential  string
}

func (deliveryAttemptRow) TableName() string { return "delivery_attempts" }

type deliveryMinuteRow struct {
	WorkspaceID string `gorm:"primaryKey"`
	Minute      dbTime `gorm:"primaryKey"`
	Outcome     string `gorm:"primaryKey"`
	Requests    int64
	Accepted    int64
	Duplicates  int64
	Suppressed  int64
}

func (deliveryMinuteRow) TableName() string { return "delivery_minutes" }

type deliveryBatchRow struct {
	BatchKey string `gorm:"primaryKey"`
	SavedAt  dbTime
}

func (deliveryBatchRow) TableName() string { return "delivery_batches" }

// addMinuteCounts makes a minute row that already exists add the new counts
// to its own instead of failing.
var addMinuteCounts = clause.OnConflict{
	Columns: []clause.Column{{Name: "workspace_id"}, {Name: "minute"}, {Name: "outcome"}},
	DoUpdates: clause.Assignments(map[string]any{
		"requests":   gorm.Expr("delivery_minutes.requests + excluded.requests"),
		"accepted":   gorm.Expr("delivery_minutes.accepted + excluded.accepted"),
		"duplicates": gorm.Expr("delivery_minutes.duplicates + excluded.duplicates"),
		"suppressed": gorm.Expr("delivery_minutes.suppressed + excluded.suppressed"),
	}),
}

// SaveDeliveries stores new attempts, adds minute counts, keeps only the
// newest keepAttempts attempts of each workspace it touched and forgets
// minutes (and batch keys) before dropMinutesBefore, all in one transaction.
// batch names what is saved: a batch whose key was saved before is not
// added again, so a caller that could not tell whether its COMMIT landed
// retries with the same key and counts nothing twice. An empty key is
// always added.
func (s *Store) SaveDeliveries(ctx context.Context, batch string, attempts []DeliveryAttempt, minutes []DeliveryMinute, keepAttempts int, dropMinutesBefore time.Time) error {
	touched := map[uuid.UUID]bool{}
	rows := make([]deliveryAttemptRow, 0, len(attempts))
	for _, a := range attempts {
		rows = append(rows, deliveryAttemptRow{WorkspaceID: a.WorkspaceID.String(), At: at(a.At), Source: a.Source, Outcome: a.Outcome,
			Reason: truncateUTF8(a.Reason, maxReasonBytes), Status: a.Status, Accepted: a.Accepted, Duplicates: a.Duplicates, Suppressed: a.Suppressed,
			Credential: truncateUTF8(a.Credential, maxCredentialBytes)})
		touched[a.WorkspaceID] = true
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if batch != "" {
			// On PostgreSQL a concurrent save of the same key waits here for
			// the first one's COMMIT, then finds the key.
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&deliveryBatchRow{BatchKey: batch, SavedAt: at(time.Now())})
			if res.Error != nil {
				return fmt.Errorf("record delivery batch %s: %w", batch, res.Error)
			}
			if res.RowsAffected == 0 {
				return nil // saved before
			}
		}
		if len(rows) > 0 {
			// 500 rows of 9 values stay under both dialects' bind-variable limits.
			if err := tx.CreateInBatches(rows, 500).Error; err != nil {
				return fmt.Errorf("insert %d delivery attempts: %w", len(rows), err)
			}
		}
		for _, m := range minutes {
			row := deliveryMinuteRow{WorkspaceID: m.WorkspaceID.String(), Minute: at(m.Minute.Truncate(time.Minute)),
				Outcome: m.Outcome, Requests: m.Requests, Accepted: m.Accepted, Duplicates: m.Duplicates, Suppressed: m.Suppressed}
			if err := tx.Clauses(addMinuteCounts).Create(&row).Error; err != nil {
				return fmt.Errorf("add delivery minute %s of %s: %w", m.Minute.Format(time.RFC3339), m.WorkspaceID, err)
			}
		}
		for ws := range touched {
			err := tx.Where("workspace_id = ? AND id NOT IN (?)", ws.String(),
				tx.Model(&deliveryAttemptRow{}).Select("id").Where("workspace_id = ?", ws.String()).
					Order("at DESC, id DESC").Limit(keepAttempts)).
				Delete(&deliveryAttemptRow{}).Error
			if err != nil {
				return fmt.Errorf("trim delivery attempts of %s: %w", ws, err)
			}
		}
		if !dropMinutesBefore.IsZero() {
			if err := tx.Where("minute < ?", at(dropMinutesBefore)).Delete(&deliveryMinuteRow{}).Error; err != nil {
				return fmt.Errorf("drop old delivery minutes: %w", err)
			}
			if err := tx.Where("saved_at < ?", at(dropMinutesBefore)).Delete(&deliveryBatchRow{}).Error; err != nil {
				return fmt.Errorf("drop old delivery batch keys: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	return nil
}

// lastEventRow is one workspace's newest received_at, NULL when it has none.
type lastEventRow struct {
	ID   string
	Last dbTime
}

// LoadDeliveries reads the newest perWorkspace attempts of every workspace,
// the minute counts since since, and when each workspace last stored an event.
func (s *Store) LoadDeliveries(ctx context.Context, since time.Time, perWorkspace int) (DeliveryHistory, error) {
	h := DeliveryHistory{LastEvent: map[uuid.UUID]time.Time{}}
	db := s.db.WithContext(ctx)
	// The window function has no builder form; the row shape is the model's.
	var attempts []deliveryAttemptRow
	err := db.Raw(`SELECT id, workspace_id, at, source, outcome, reason, status, accepted, duplicates, credential FROM
		(SELECT *, row_number() OVER (PARTITION BY workspace_id ORDER BY at DESC, id DESC) AS n FROM delivery_attempts) r
		WHERE n <= ? ORDER BY workspace_id, at DESC, id DESC`, perWorkspace).Scan(&attempts).Error
	if err != nil {
		return h, fmt.Errorf("load delivery attempts: %w", err)
	}
	for _, r := range attempts {
		ws, err := uuid.Parse(r.WorkspaceID)
		if err != nil {
			return h, fmt.Errorf("load delivery attempts: workspace id %q: %w", r.WorkspaceID, err)
		}
		h.Attempts = append(h.Attempts, DeliveryAttempt{WorkspaceID: ws, At: r.At.Time, Source: r.Source, Outcome: r.Outcome,
			Reason: r.Reason, Status: r.Status, Accepted: r.Accepted, Duplicates: r.Duplicates, Suppressed: r.Suppressed, Credential: r.Credential})
	}

	var minutes []deliveryMinuteRow
	if err := db.Where("minute >= ?", at(since)).Order("workspace_id, minute").Find(&minutes).Error; err != nil {
		return h, fmt.Errorf("load delivery minutes: %w", err)
	}
	for _, r := range minutes {
		ws, err := uuid.Parse(r.WorkspaceID)
		if err != nil {
			return h, fmt.Errorf("load delivery minutes: workspace id %q: %w", r.WorkspaceID, err)
		}
		h.Minutes = append(h.Minutes, DeliveryMinute{WorkspaceID: ws, Minute: r.Minute.Time, Outcome: r.Outcome,
			Requests: r.Requests, Accepted: r.Accepted, Duplicates: r.Duplicates, Suppressed: r.Suppressed})
	}

	// max() per workspace reads one entry of events_ws_received backwards,
	// however many events there are.
	var last []lastEventRow
	err = db.Raw("SELECT w.id AS id, (SELECT max(e.received_at) FROM events e WHERE e.workspace_id = w.id) AS last FROM workspaces w").
		Scan(&last).Error
	if err != nil {
		return h, fmt.Errorf("load last event times: %w", err)
	}
	for _, r := range last {
		id, err := uuid.Parse(r.ID)
		if err != nil {
			return h, fmt.Errorf("load last event times: workspace id %q: %w", r.ID, err)
		}
		if !r.Last.IsZero() {
			h.LastEvent[id] = r.Last.Time
		}
	}
	return h, nil
}

func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
