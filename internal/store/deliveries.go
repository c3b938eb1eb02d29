package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
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

// SaveDeliveries stores new attempts, adds minute counts, keeps only the
// newest keepAttempts attempts of each workspace it touched and forgets
// minutes before dropMinutesBefore, all in one transaction.
func (s *Store) SaveDeliveries(ctx context.Context, attempts []DeliveryAttempt, minutes []DeliveryMinute, keepAttempts int, dropMinutesBefore time.Time) error {
	touched := map[uuid.UUID]bool{}
	err := s.withSQLTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(attempts); start += 500 {
			chunk := attempts[start:min(start+500, len(attempts))]
			var b strings.Builder
			b.WriteString("INSERT INTO delivery_attempts (workspace_id, at, source, outcome, reason, status, accepted, duplicates, credential) VALUES ")
			args := make([]any, 0, len(chunk)*9)
			for i, a := range chunk {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?,?,?,?,?,?,?)")
				args = append(args, a.WorkspaceID.String(), s.timeArg(a.At), a.Source, a.Outcome,
					truncateUTF8(a.Reason, maxReasonBytes), a.Status, a.Accepted, a.Duplicates, truncateUTF8(a.Credential, maxCredentialBytes))
				touched[a.WorkspaceID] = true
			}
			if _, err := tx.ExecContext(ctx, s.rebind(b.String()), args...); err != nil {
				return fmt.Errorf("insert %d delivery attempts: %w", len(chunk), err)
			}
		}
		upsert := s.rebind(`INSERT INTO delivery_minutes (workspace_id, minute, outcome, requests, accepted, duplicates)
			VALUES (?,?,?,?,?,?) ON CONFLICT (workspace_id, minute, outcome) DO UPDATE SET
			requests = delivery_minutes.requests + excluded.requests,
			accepted = delivery_minutes.accepted + excluded.accepted,
			duplicates = delivery_minutes.duplicates + excluded.duplicates`)
		for _, m := range minutes {
			if _, err := tx.ExecContext(ctx, upsert, m.WorkspaceID.String(), s.timeArg(m.Minute.Truncate(time.Minute)),
				m.Outcome, m.Requests, m.Accepted, m.Duplicates); err != nil {
				return fmt.Errorf("add delivery minute %s of %s: %w", m.Minute.Format(time.RFC3339), m.WorkspaceID, err)
			}
		}
		trim := s.rebind(`DELETE FROM delivery_attempts WHERE workspace_id = ? AND id NOT IN
			(SELECT id FROM delivery_attempts WHERE workspace_id = ? ORDER BY at DESC, id DESC LIMIT ?)`)
		for ws := range touched {
			if _, err := tx.ExecContext(ctx, trim, ws.String(), ws.String(), keepAttempts); err != nil {
				return fmt.Errorf("trim delivery attempts of %s: %w", ws, err)
			}
		}
		if !dropMinutesBefore.IsZero() {
			if _, err := tx.ExecContext(ctx, s.rebind("DELETE FROM delivery_minutes WHERE minute < ?"), s.timeArg(dropMinutesBefore)); err != nil {
				return fmt.Errorf("drop old delivery minutes: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	return nil
}

// LoadDeliveries reads the newest perWorkspace attempts of every workspace,
// the minute counts since since, and when each workspace last stored an event.
func (s *Store) LoadDeliveries(ctx context.Context, since time.Time, perWorkspace int) (DeliveryHistory, error) {
	h := DeliveryHistory{LastEvent: map[uuid.UUID]time.Time{}}
	rows, err := s.sql.QueryContext(ctx, s.rebind(`SELECT workspace_id, at, source, outcome, reason, status, accepted, duplicates, credential FROM
		(SELECT *, row_number() OVER (PARTITION BY workspace_id ORDER BY at DESC, id DESC) AS n FROM delivery_attempts) r
		WHERE n <= ? ORDER BY workspace_id, at DESC, id DESC`), perWorkspace)
	if err != nil {
		return h, fmt.Errorf("load delivery attempts: %w", err)
	}
	err = scanAll(rows, func() error {
		var a DeliveryAttempt
		var ws string
		var at dbTime
		if err := rows.Scan(&ws, &at, &a.Source, &a.Outcome, &a.Reason, &a.Status, &a.Accepted, &a.Duplicates, &a.Credential); err != nil {
			return err
		}
		a.At = at.Time
		a.WorkspaceID, err = uuid.Parse(ws)
		h.Attempts = append(h.Attempts, a)
		return err
	})
	if err != nil {
		return h, fmt.Errorf("load delivery attempts: %w", err)
	}

	rows, err = s.sql.QueryContext(ctx, s.rebind(`SELECT workspace_id, minute, outcome, requests, accepted, duplicates
		FROM delivery_minutes WHERE minute >= ? ORDER BY workspace_id, minute`), s.timeArg(since))
	if err != nil {
		return h, fmt.Errorf("load delivery minutes: %w", err)
	}
	err = scanAll(rows, func() error {
		var m DeliveryMinute
		var ws string
		var at dbTime
		if err := rows.Scan(&ws, &at, &m.Outcome, &m.Requests, &m.Accepted, &m.Duplicates); err != nil {
			return err
		}
		m.Minute = at.Time
		m.WorkspaceID, err = uuid.Parse(ws)
		h.Minutes = append(h.Minutes, m)
		return err
	})
	if err != nil {
		return h, fmt.Errorf("load delivery minutes: %w", err)
	}

	// max() per workspace reads one entry of events_ws_received backwards,
	// however many events there are.
	rows, err = s.sql.QueryContext(ctx,
		"SELECT w.id, (SELECT max(e.received_at) FROM events e WHERE e.workspace_id = w.id) FROM workspaces w")
	if err != nil {
		return h, fmt.Errorf("load last event times: %w", err)
	}
	err = scanAll(rows, func() error {
		var ws string
		var last nullTime
		if err := rows.Scan(&ws, &last); err != nil {
			return err
		}
		id, err := uuid.Parse(ws)
		if last.Valid {
			h.LastEvent[id] = last.Time
		}
		return err
	})
	if err != nil {
		return h, fmt.Errorf("load last event times: %w", err)
	}
	return h, nil
}

func scanAll(rows *sql.Rows, each func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(); err != nil {
			return err
		}
	}
	return rows.Err()
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
