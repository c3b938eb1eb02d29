package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Message is one send: its intent while queued, its outcome once done.
type Message struct {
	ID          int64     `json:"id"`
	WorkspaceID uuid.UUID `json:"-"`
	SendKey     string    `json:"-"`
	InstanceID  int64     `json:"-"`
	UserID      string    `json:"userId"`
	To          string    `json:"to"`
	JourneyKey  string    `json:"journey"`
	StepID      string    `json:"step"`
	Template    string    `json:"template"`
	Group       string    `json:"-"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason"`
	Reply       string    `json:"reply"`
	Attempts    int       `json:"-"`
	CreatedAt   time.Time `json:"-"`
	At          time.Time `json:"at"`
}

type messageRecord struct {
	ID          int64
	WorkspaceID string
	SendKey     string
	InstanceID  int64
	UserID      string
	ToAddr      string
	JourneyKey  string
	StepID      string
	TemplateKey string
	GroupKey    string
	Status      string
	Reason      string
	Reply       string
	Attempts    int
	CreatedAt   dbTime
	At          dbTime
}

func (r messageRecord) message() Message {
	ws, _ := uuid.Parse(r.WorkspaceID)
	return Message{ID: r.ID, WorkspaceID: ws, SendKey: r.SendKey, InstanceID: r.InstanceID, UserID: r.UserID, To: r.ToAddr, JourneyKey: r.JourneyKey,
		StepID: r.StepID, Template: r.TemplateKey, Group: r.GroupKey, Status: r.Status, Reason: r.Reason, Reply: r.Reply,
		Attempts: r.Attempts, CreatedAt: r.CreatedAt.Time, At: r.At.Time}
}

const messageColumns = "id, workspace_id, send_key, instance_id, user_id, to_addr, journey_key, step_id, template_key, group_key, status, reason, reply, attempts, created_at, at"

// ClaimMessages leases up to limit due sends (queued, or sending whose
// lease ran out: a crash mid-send) for lease, so no other instance of Inlet
// takes them meanwhile.
func (s *Store) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Message, error) {
	// The engine looks after every commit of events: a one-statement look
	// on the due index first, so an idle outbox costs no transaction.
	var due []int64
	if err := all(s.db.WithContext(ctx), &due, "SELECT id FROM messages WHERE status IN ('queued','sending') AND next_at <= ? LIMIT 1", at(now)); err != nil {
		return nil, fmt.Errorf("due messages: %w", err)
	}
	if len(due) == 0 {
		return nil, nil
	}
	var recs []messageRecord
	err := s.tx(ctx, func(tx *gorm.DB) error {
		q := "SELECT " + messageColumns + " FROM messages WHERE status IN ('queued','sending') AND next_at <= ? ORDER BY next_at, id LIMIT ?"
		if s.dialect == Postgres {
			q += " FOR UPDATE SKIP LOCKED"
		}
		if err := all(tx, &recs, q, at(now), limit); err != nil {
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		ids := make([]any, len(recs))
		for i, r := range recs {
			ids[i] = r.ID
		}
		_, err := exec(tx, "UPDATE messages SET next_at = ? WHERE id IN ("+placeholders(len(ids))+")", append([]any{at(now.Add(lease))}, ids...)...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim messages: %w", err)
	}
	out := make([]Message, len(recs))
	for i, r := range recs {
		out[i] = r.message()
	}
	return out, nil
}

// Bounced says whether address bounced for the workspace.
func (s *Store) Bounced(ctx context.Context, ws uuid.UUID, address string) (bool, error) {
	var n int64
	if err := first(s.db.WithContext(ctx), &n, "SELECT count(*) FROM email_bounces WHERE workspace_id = ? AND address = ?",
		ws.String(), strings.ToLower(address)); err != nil {
		return false, fmt.Errorf("bounced address: %w", err)
	}
	return n > 0, nil
}

// LiftBounce lets email go to a bounced address again.
func (s *Store) LiftBounce(ctx context.Context, ws uuid.UUID, address string) (bool, error) {
	n, err := exec(s.db.WithContext(ctx), "DELETE FROM email_bounces WHERE workspace_id = ? AND address = ?", ws.String(), strings.ToLower(address))
	return n > 0, err
}

// MessageFilter selects the messages log.
type MessageFilter struct {
	UserID, Journey, Status string
	Before                  int64 // id cursor: older than this; 0 = newest
	Limit                   int
}

// Messages pages through the log, newest first.
func (s *Store) Messages(ctx context.Context, ws uuid.UUID, f MessageFilter) ([]Message, error) {
	q := "SELECT " + messageColumns + " FROM messages WHERE workspace_id = ?"
	args := []any{ws.String()}
	for _, c := range []struct{ col, v string }{{"user_id", f.UserID}, {"journey_key", f.Journey}, {"status", f.Status}} {
		if c.v != "" {
			q += " AND " + c.col + " = ?"
			args = append(args, c.v)
		}
	}
	if f.Before > 0 {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	var recs []messageRecord
	if err := all(s.db.WithContext(ctx), &recs, q+" ORDER BY id DESC LIMIT ?", append(args, f.Limit)...); err != nil {
		return nil, fmt.Errorf("messages of %s: %w", ws, err)
	}
	out := make([]Message, len(recs))
	for i, r := range recs {
		out[i] = r.message()
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Bounce is an address suppressed after a hard bounce.
type Bounce struct {
	Address string    `json:"address"`
	Reply   string    `json:"reply"`
	At      time.Time `json:"at"`
}

// Bounces lists the workspace's bounced addresses, newest first.
func (s *Store) Bounces(ctx context.Context, ws uuid.UUID, limit int) ([]Bounce, error) {
	var recs []struct {
		Address string
		Reply   string
		At      dbTime
	}
	if err := all(s.db.WithContext(ctx), &recs, "SELECT address, reply, at FROM email_bounces WHERE workspace_id = ? ORDER BY at DESC LIMIT ?",
		ws.String(), limit); err != nil {
		return nil, fmt.Errorf("bounces of %s: %w", ws, err)
	}
	out := make([]Bounce, len(recs))
	for i, r := range recs {
		out[i] = Bounce{Address: r.Address, Reply: r.Reply, At: r.At.Time}
	}
	return out, nil
}
