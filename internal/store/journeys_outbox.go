package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// BroadcastMember is one member a broadcast enters: a profile with a userId.
type BroadcastMember struct {
	ProfileKey string
	UserID     string
}

// BroadcastStep moves a broadcast journey one page further through its
// audience's current members (a keyset page by profile key), calling fn
// with the page inside the transaction that records the progress: a
// restart resumes after the last committed page and enters nobody twice.
// It reports done once every member was handed over (then never again:
// enabling the journey again does not resend). An audience that does not
// exist or is not built yet is waited for.
func (s *Store) BroadcastStep(ctx context.Context, ws uuid.UUID, journey, audience string, limit int, now time.Time,
	fn func(tx *JourneyTx, members []BroadcastMember) error) (done bool, read int, err error) {
	var finished []bool
	if err := all(s.db.WithContext(ctx), &finished, "SELECT done FROM journey_broadcasts WHERE workspace_id = ? AND journey_key = ?", ws.String(), journey); err != nil {
		return false, 0, fmt.Errorf("broadcast %q: %w", journey, err)
	}
	if len(finished) == 1 && finished[0] {
		return true, 0, nil // the common case, without a write transaction
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := exec(tx, "INSERT INTO journey_broadcasts (workspace_id, journey_key, started_at) VALUES (?,?,?) ON CONFLICT DO NOTHING",
			ws.String(), journey, at(now)); err != nil {
			return fmt.Errorf("start broadcast %q: %w", journey, err)
		}
		lock := ""
		if s.dialect == Postgres {
			lock = " FOR UPDATE"
		}
		var st struct {
			AfterKey string
			Done     bool
		}
		if err := first(tx, &st, "SELECT after_key, done FROM journey_broadcasts WHERE workspace_id = ? AND journey_key = ?"+lock, ws.String(), journey); err != nil {
			return fmt.Errorf("broadcast %q: %w", journey, err)
		}
		if st.Done {
			done = true
			return nil
		}
		var version []int
		if err := all(tx, &version, "SELECT current_version FROM audiences WHERE workspace_id = ? AND key = ?", ws.String(), audience); err != nil {
			return fmt.Errorf("audience %q of broadcast %q: %w", audience, journey, err)
		}
		if len(version) == 0 || version[0] == 0 {
			return nil
		}
		var page []BroadcastMember
		if err := all(tx, &page, `SELECT m.profile_key, p.user_id FROM audience_members m
			JOIN profiles p ON p.workspace_id = m.workspace_id AND p.profile_key = m.profile_key
			WHERE m.workspace_id = ? AND m.audience_key = ? AND m.version = ? AND m.member AND m.profile_key > ?
			ORDER BY m.profile_key LIMIT ?`, ws.String(), audience, version[0], st.AfterKey, limit); err != nil {
			return fmt.Errorf("members for broadcast %q: %w", journey, err)
		}
		users := page[:0:0]
		for _, m := range page {
			if m.UserID != "" {
				users = append(users, m)
			}
		}
		if err := fn(&JourneyTx{tx: tx, ws: ws, pg: s.dialect == Postgres}, users); err != nil {
			return err
		}
		done, read = len(page) < limit, len(page)
		after := st.AfterKey
		if len(page) > 0 {
			after = page[len(page)-1].ProfileKey
		}
		_, err := exec(tx, "UPDATE journey_broadcasts SET after_key = ?, entered = entered + ?, done = ? WHERE workspace_id = ? AND journey_key = ?",
			after, len(users), done, ws.String(), journey)
		return err
	})
	return done, read, err
}

// JourneyWebhook is a webhook step's intent and outcome.
type JourneyWebhook struct {
	SendKey     string    `json:"sendKey"`
	InstanceID  int64     `json:"instanceId"`
	JourneyKey  string    `json:"journey"`
	StepID      string    `json:"step"`
	UserID      string    `json:"userId"`
	Destination string    `json:"destination"`
	Body        string    `json:"-"`
	Status      string    `json:"status"` // queued, sent, failed
	Attempts    int       `json:"attempts"`
	Reply       string    `json:"reply"`
	CreatedAt   time.Time `json:"createdAt"`
	At          time.Time `json:"at"`
}

type journeyWebhookRow struct {
	SendKey, JourneyKey, StepID, UserID, Destination, Body, Status, Reply string
	InstanceID                                                            int64
	Attempts                                                              int
	CreatedAt, At                                                         dbTime
}

func (r journeyWebhookRow) hook() JourneyWebhook {
	return JourneyWebhook{SendKey: r.SendKey, InstanceID: r.InstanceID, JourneyKey: r.JourneyKey, StepID: r.StepID, UserID: r.UserID,
		Destination: r.Destination, Body: r.Body, Status: r.Status, Attempts: r.Attempts, Reply: r.Reply, CreatedAt: r.CreatedAt.Time, At: r.At.Time}
}

const journeyWebhookCols = "send_key, instance_id, journey_key, step_id, user_id, destination, body, status, attempts, reply, created_at, at"

// QueueWebhook records a webhook step's intent with the step that makes
// it; a second one with the same send key is a no-op.
func (j *JourneyTx) QueueWebhook(w JourneyWebhook, now time.Time) error {
	_, err := exec(j.tx, "INSERT INTO journey_webhooks (workspace_id, "+journeyWebhookCols+") VALUES (?,?,?,?,?,?,?,?,'queued',0,'',?,?) ON CONFLICT DO NOTHING",
		j.ws.String(), w.SendKey, w.InstanceID, w.JourneyKey, w.StepID, w.UserID, w.Destination, w.Body, at(now), at(now))
	if err != nil {
		return fmt.Errorf("queue webhook %s: %w", w.SendKey, err)
	}
	return nil
}

// JourneyWebhookByKey reads a webhook step's row; ErrNotFound when gone.
func (s *Store) JourneyWebhookByKey(ctx context.Context, ws uuid.UUID, sendKey string) (JourneyWebhook, error) {
	var r journeyWebhookRow
	err := first(s.db.WithContext(ctx), &r, "SELECT "+journeyWebhookCols+" FROM journey_webhooks WHERE workspace_id = ? AND send_key = ?", ws.String(), sendKey)
	if errors.Is(err, ErrNotFound) {
		return JourneyWebhook{}, ErrNotFound
	}
	if err != nil {
		return JourneyWebhook{}, fmt.Errorf("journey webhook %s: %w", sendKey, err)
	}
	return r.hook(), nil
}

// JourneyWebhooks lists a journey's webhook posts, newest first.
func (s *Store) JourneyWebhooks(ctx context.Context, ws uuid.UUID, journey string, limit int) ([]JourneyWebhook, error) {
	var rows []journeyWebhookRow
	if err := all(s.db.WithContext(ctx), &rows, "SELECT "+journeyWebhookCols+" FROM journey_webhooks WHERE workspace_id = ? AND journey_key = ? ORDER BY created_at DESC LIMIT ?",
		ws.String(), journey, limit); err != nil {
		return nil, fmt.Errorf("webhooks of journey %q: %w", journey, err)
	}
	out := make([]JourneyWebhook, len(rows))
	for i, r := range rows {
		out[i] = r.hook()
	}
	return out, nil
}

// RecordWebhookAttempt stores an attempt's outcome: status sent, failed
// (given up) or queued (to be retried).
func (s *Store) RecordWebhookAttempt(ctx context.Context, ws uuid.UUID, sendKey, status, reply string, now time.Time) error {
	_, err := exec(s.db.WithContext(ctx), "UPDATE journey_webhooks SET status = ?, reply = ?, attempts = attempts + 1, at = ? WHERE workspace_id = ? AND send_key = ? AND status = 'queued'",
		status, reply, at(now), ws.String(), sendKey)
	if err != nil {
		return fmt.Errorf("record webhook attempt %s: %w", sendKey, err)
	}
	return nil
}
