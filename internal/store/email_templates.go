package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// EmailTemplate is a Liquid template of a workspace (table email_templates).
type EmailTemplate struct {
	Key           string    `json:"key"`
	Subject       string    `json:"subject"`
	HTML          string    `json:"html"`
	Text          string    `json:"text"`
	Transactional bool      `json:"transactional"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

type emailTemplateRecord struct {
	Key           string
	Subject       string
	HTML          string
	Text          string
	Transactional bool
	CreatedAt     dbTime
	UpdatedAt     dbTime
}

func (r emailTemplateRecord) template() EmailTemplate {
	return EmailTemplate{Key: r.Key, Subject: r.Subject, HTML: r.HTML, Text: r.Text, Transactional: r.Transactional,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

const emailTemplateColumns = "key, subject, html, text, transactional, created_at, updated_at"

// EmailTemplates lists the workspace's templates by key.
func (s *Store) EmailTemplates(ctx context.Context, ws uuid.UUID) ([]EmailTemplate, error) {
	var rows []emailTemplateRecord
	if err := all(s.db.WithContext(ctx), &rows, "SELECT "+emailTemplateColumns+" FROM email_templates WHERE workspace_id = ? ORDER BY key",
		ws.String()); err != nil {
		return nil, fmt.Errorf("list templates of %s: %w", ws, err)
	}
	out := make([]EmailTemplate, len(rows))
	for i, r := range rows {
		out[i] = r.template()
	}
	return out, nil
}

// EmailTemplate reads one template; ErrNotFound when there is none.
func (s *Store) EmailTemplate(ctx context.Context, ws uuid.UUID, key string) (EmailTemplate, error) {
	var r emailTemplateRecord
	err := first(s.db.WithContext(ctx), &r, "SELECT "+emailTemplateColumns+" FROM email_templates WHERE workspace_id = ? AND key = ?",
		ws.String(), key)
	if errors.Is(err, ErrNotFound) {
		return EmailTemplate{}, ErrNotFound
	}
	if err != nil {
		return EmailTemplate{}, fmt.Errorf("read template %q of %s: %w", key, ws, err)
	}
	return r.template(), nil
}

// CreateEmailTemplate adds a template; ErrConflict when the key is taken.
func (s *Store) CreateEmailTemplate(ctx context.Context, ws uuid.UUID, t EmailTemplate) (EmailTemplate, error) {
	now := time.Now().UTC()
	_, err := exec(s.db.WithContext(ctx), "INSERT INTO email_templates (workspace_id, key, subject, html, text, transactional, created_at, updated_at) "+
		"VALUES (?,?,?,?,?,?,?,?)", ws.String(), t.Key, t.Subject, t.HTML, t.Text, t.Transactional, at(now), at(now))
	if err != nil && isUniqueViolation(err) {
		return EmailTemplate{}, ErrConflict
	}
	if err != nil {
		return EmailTemplate{}, fmt.Errorf("create template %q of %s: %w", t.Key, ws, err)
	}
	t.CreatedAt, t.UpdatedAt = now, now
	return t, nil
}

// UpdateEmailTemplate replaces a template's content; ErrNotFound when there is none.
func (s *Store) UpdateEmailTemplate(ctx context.Context, ws uuid.UUID, t EmailTemplate) (EmailTemplate, error) {
	n, err := exec(s.db.WithContext(ctx), "UPDATE email_templates SET subject = ?, html = ?, text = ?, transactional = ?, updated_at = ? "+
		"WHERE workspace_id = ? AND key = ?", t.Subject, t.HTML, t.Text, t.Transactional, at(time.Now()), ws.String(), t.Key)
	if err != nil {
		return EmailTemplate{}, fmt.Errorf("update template %q of %s: %w", t.Key, ws, err)
	}
	if n == 0 {
		return EmailTemplate{}, ErrNotFound
	}
	return s.EmailTemplate(ctx, ws, t.Key)
}

// DeleteEmailTemplate removes a template; ErrNotFound when there is none.
func (s *Store) DeleteEmailTemplate(ctx context.Context, ws uuid.UUID, key string) error {
	n, err := exec(s.db.WithContext(ctx), "DELETE FROM email_templates WHERE workspace_id = ? AND key = ?", ws.String(), key)
	if err != nil {
		return fmt.Errorf("delete template %q of %s: %w", key, ws, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
