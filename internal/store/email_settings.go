package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EmailSettings is a workspace's own SMTP settings (table email_settings).
// Empty fields mean "use the default" (SMTP_URL, EMAIL_FROM,
// EMAIL_FREQUENCY_CAP); Password is plaintext here and sealed in the row.
type EmailSettings struct {
	Host         string
	Port         int
	Username     string
	Password     string
	TLSMode      string
	FromName     string
	FromAddress  string
	ReplyTo      string
	FrequencyCap string
	UpdatedAt    time.Time
	UpdatedBy    string
}

type emailSettingsRecord struct {
	Host         string
	Port         int
	Username     string
	Password     string
	TLSMode      string
	FromName     string
	FromAddress  string
	ReplyTo      string
	FrequencyCap string
	UpdatedAt    dbTime
	UpdatedBy    string
}

// EmailSettings reads the workspace's SMTP settings; ErrNotFound when it
// has none of its own.
func (s *Store) EmailSettings(ctx context.Context, ws uuid.UUID) (EmailSettings, error) {
	var r emailSettingsRecord
	err := first(s.db.WithContext(ctx), &r, "SELECT host, port, username, password, tls_mode, from_name, from_address, "+
		"reply_to, frequency_cap, updated_at, updated_by FROM email_settings WHERE workspace_id = ?", ws.String())
	if errors.Is(err, ErrNotFound) {
		return EmailSettings{}, ErrNotFound
	}
	if err != nil {
		return EmailSettings{}, fmt.Errorf("read email settings of %s: %w", ws, err)
	}
	pw, err := s.openSecret(r.Password)
	if err != nil {
		return EmailSettings{}, fmt.Errorf("email settings of %s: SMTP password: %w", ws, err)
	}
	return EmailSettings{Host: r.Host, Port: r.Port, Username: r.Username, Password: pw, TLSMode: r.TLSMode,
		FromName: r.FromName, FromAddress: r.FromAddress, ReplyTo: r.ReplyTo, FrequencyCap: r.FrequencyCap,
		UpdatedAt: r.UpdatedAt.Time, UpdatedBy: r.UpdatedBy}, nil
}

// SaveEmailSettings stores the workspace's SMTP settings. keepPassword keeps
// the stored password (the form never shows it, so an empty field means
// "unchanged" unless the admin asked to clear it).
func (s *Store) SaveEmailSettings(ctx context.Context, ws uuid.UUID, e EmailSettings, keepPassword bool) error {
	now := at(time.Now())
	pw := s.sealSecret(e.Password)
	q := "INSERT INTO email_settings (workspace_id, host, port, username, password, tls_mode, from_name, from_address, " +
		"reply_to, frequency_cap, updated_at, updated_by) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) " +
		"ON CONFLICT (workspace_id) DO UPDATE SET host = excluded.host, port = excluded.port, username = excluded.username, " +
		"tls_mode = excluded.tls_mode, from_name = excluded.from_name, from_address = excluded.from_address, " +
		"reply_to = excluded.reply_to, frequency_cap = excluded.frequency_cap, updated_at = excluded.updated_at, " +
		"updated_by = excluded.updated_by"
	if !keepPassword {
		q += ", password = excluded.password"
	}
	if _, err := exec(s.db.WithContext(ctx), q, ws.String(), e.Host, e.Port, e.Username, pw, e.TLSMode, e.FromName, e.FromAddress,
		e.ReplyTo, e.FrequencyCap, now, e.UpdatedBy); err != nil {
		return fmt.Errorf("save email settings of %s: %w", ws, err)
	}
	return nil
}
