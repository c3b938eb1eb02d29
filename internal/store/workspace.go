package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/segment"
	"gorm.io/gorm"
)

// workspaceRow is the workspaces table as GORM sees it. It is private so the
// schema can change without touching callers; Workspace is what they get.
type workspaceRow struct {
	ID                      string `gorm:"primaryKey"`
	Name                    string
	IsDefault               bool
	Secret                  string
	SecretSetAt             dbTime
	SecretSetBy             string
	PreviousSecret          string
	PreviousSecretExpiresAt dbTime
	FirstElementSignatures  bool
	CreatedAt               dbTime `gorm:"autoCreateTime:false"`
	UpdatedAt               dbTime `gorm:"autoUpdateTime:false"`
}

func (workspaceRow) TableName() string { return "workspaces" }

// Workspace is one tenant: its own secret, webhook URL and events.
type Workspace struct {
	ID        uuid.UUID
	Name      string
	IsDefault bool
	CreatedAt time.Time
	Secret    SecretInfo
	// FirstElementSignatures: the admin accepts arrays signed only over
	// element 0 (Segment's Webhooks (Actions) destination with batching).
	FirstElementSignatures bool
}

// SecretInfo carries the shared secrets. The plaintext is only for the
// verifier; pages show Last4 and the dates.
type SecretInfo struct {
	Current           string
	SetAt             *time.Time
	SetBy             string
	Previous          string
	PreviousExpiresAt *time.Time
}

// IsSet reports whether a current secret is configured.
func (s SecretInfo) IsSet() bool { return s.Current != "" }

// Last4 is the tail the dashboard may show: the last 4 characters, never
// more than a quarter of the secret.
func (s SecretInfo) Last4() string { return segment.SecretTail(s.Current) }

// Valid returns the secrets that verify at now: the current one and, during
// its grace period, the previous one.
func (s SecretInfo) Valid(now time.Time) []string {
	var out []string
	if s.Current != "" {
		out = append(out, s.Current)
	}
	if s.Previous != "" && s.PreviousExpiresAt != nil && now.Before(*s.PreviousExpiresAt) {
		out = append(out, s.Previous)
	}
	return out
}

func (s *Store) toWorkspace(r workspaceRow) (Workspace, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace id %q: %w", r.ID, err)
	}
	cur, err := s.openSecret(r.Secret)
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace %s secret: %w", r.ID, err)
	}
	prev, err := s.openSecret(r.PreviousSecret)
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace %s previous secret: %w", r.ID, err)
	}
	return Workspace{
		ID: id, Name: r.Name, IsDefault: r.IsDefault, CreatedAt: r.CreatedAt.Time, FirstElementSignatures: r.FirstElementSignatures,
		Secret: SecretInfo{Current: cur, SetAt: r.SecretSetAt.ptr(), SetBy: r.SecretSetBy, Previous: prev, PreviousExpiresAt: r.PreviousSecretExpiresAt.ptr()},
	}, nil
}

func newWorkspaceRow(name string, isDefault bool) workspaceRow {
	now := at(time.Now())
	return workspaceRow{ID: uuid.NewString(), Name: name, IsDefault: isDefault, CreatedAt: now, UpdatedAt: now}
}

// EnsureDefaultWorkspace creates the default workspace on first start and
// returns it. Safe when several instances start at once.
func (s *Store) EnsureDefaultWorkspace(ctx context.Context) (Workspace, error) {
	ws, err := s.DefaultWorkspace(ctx)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return ws, err
	}
	row := newWorkspaceRow("Default", true)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil && !isUniqueViolation(err) {
		return Workspace{}, fmt.Errorf("create default workspace: %w", err)
	}
	return s.DefaultWorkspace(ctx)
}

// DefaultWorkspace returns the workspace the webhook serves when none is named.
func (s *Store) DefaultWorkspace(ctx context.Context) (Workspace, error) {
	var row workspaceRow
	err := s.db.WithContext(ctx).Where("is_default = ?", true).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Workspace{}, ErrNotFound
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("default workspace: %w", err)
	}
	return s.toWorkspace(row)
}

// Workspace returns one workspace by id.
func (s *Store) Workspace(ctx context.Context, id uuid.UUID) (Workspace, error) {
	var row workspaceRow
	err := s.db.WithContext(ctx).Where("id = ?", id.String()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Workspace{}, ErrNotFound
	}
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace %s: %w", id, err)
	}
	return s.toWorkspace(row)
}

// Workspaces lists every workspace, the default first.
func (s *Store) Workspaces(ctx context.Context) ([]Workspace, error) {
	var rows []workspaceRow
	if err := s.db.WithContext(ctx).Order("is_default DESC, name, created_at").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list workspaces: %w", err)
	}
	out := make([]Workspace, 0, len(rows))
	for _, r := range rows {
		ws, err := s.toWorkspace(r)
		if err != nil {
			return nil, err
		}
		out = append(out, ws)
	}
	return out, nil
}

// CreateWorkspace adds a named workspace.
func (s *Store) CreateWorkspace(ctx context.Context, name string) (Workspace, error) {
	name = strings.TrimSpace(name)
	row := newWorkspaceRow(name, false)
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Workspace{}, fmt.Errorf("create workspace: %w", err)
	}
	return s.Workspace(ctx, uuid.MustParse(row.ID))
}

// SetSecret saves a new current secret. The one it replaces stays valid for
// grace so the admin can update Segment's side afterwards without losing events.
func (s *Store) SetSecret(ctx context.Context, id uuid.UUID, secret, by string, grace time.Duration) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var row workspaceRow
		err := tx.Where("id = ?", id.String()).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load workspace %s: %w", id, err)
		}
		now := time.Now().UTC()
		cur, err := s.openSecret(row.Secret)
		if err != nil {
			return err
		}
		updates := map[string]any{
			"secret": s.sealSecret(secret), "secret_set_at": at(now), "secret_set_by": by, "updated_at": at(now),
		}
		if cur != "" && cur != secret {
			updates["previous_secret"] = row.Secret
			updates["previous_secret_expires_at"] = at(now.Add(grace))
		}
		if err := tx.Model(&workspaceRow{}).Where("id = ?", id.String()).Updates(updates).Error; err != nil {
			return fmt.Errorf("save secret for workspace %s: %w", id, err)
		}
		return nil
	})
}

// RevokePreviousSecret ends the rotation grace period now.
func (s *Store) RevokePreviousSecret(ctx context.Context, id uuid.UUID) error {
	res := s.db.WithContext(ctx).Model(&workspaceRow{}).Where("id = ?", id.String()).
		Updates(map[string]any{"previous_secret": "", "previous_secret_expires_at": nil, "updated_at": at(time.Now())})
	if res.Error != nil {
		return fmt.Errorf("revoke previous secret of %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ClearSecret removes every secret: the webhook then answers 503 so Segment
// keeps retrying until a new one is saved.
func (s *Store) ClearSecret(ctx context.Context, id uuid.UUID) error {
	res := s.db.WithContext(ctx).Model(&workspaceRow{}).Where("id = ?", id.String()).
		Updates(map[string]any{"secret": "", "secret_set_at": nil, "secret_set_by": "",
			"previous_secret": "", "previous_secret_expires_at": nil, "updated_at": at(time.Now())})
	if res.Error != nil {
		return fmt.Errorf("clear secret of %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// EncryptSecrets rewrites plaintext secrets encrypted with ENCRYPTION_KEY.
func (s *Store) EncryptSecrets(ctx context.Context) (int, error) {
	if s.cipher == nil {
		return 0, errors.New("ENCRYPTION_KEY is not set")
	}
	n := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []workspaceRow
		if err := tx.Find(&rows).Error; err != nil {
			return fmt.Errorf("list workspaces: %w", err)
		}
		for _, r := range rows {
			up := map[string]any{}
			for col, stored := range map[string]string{"secret": r.Secret, "previous_secret": r.PreviousSecret} {
				if stored == "" || isSealed(stored) {
					continue
				}
				plain, err := s.openSecret(stored)
				if err != nil {
					return err
				}
				up[col] = s.cipher.seal(plain)
			}
			if len(up) == 0 {
				continue
			}
			if err := tx.Model(&workspaceRow{}).Where("id = ?", r.ID).Updates(up).Error; err != nil {
				return fmt.Errorf("encrypt secret of %s: %w", r.ID, err)
			}
			n++
		}
		return nil
	})
	return n, err
}
