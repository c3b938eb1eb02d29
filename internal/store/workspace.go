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
	SegmentDeletes          bool
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
	// SegmentDeletes: Segment's "delete" calls (its user-deletion
	// regulations) erase the userId instead of being stored (default on).
	SegmentDeletes bool
}

// SecretInfo carries the shared secrets (workspace_secrets.go). The
// plaintext is only for the verifier; pages show Last4 and the dates.
type SecretInfo struct {
	Current string
	SetAt   *time.Time
	SetBy   string
	// PreviousSecrets are the replaced secrets still in their grace, newest
	// first; Previous and PreviousExpiresAt repeat the newest of them.
	PreviousSecrets   []PreviousSecret
	Previous          string
	PreviousExpiresAt *time.Time
}

// IsSet reports whether a current secret is configured.
func (s SecretInfo) IsSet() bool { return s.Current != "" }

// Last4 is the tail the dashboard may show: the last 4 characters, never
// more than a quarter of the secret.
func (s SecretInfo) Last4() string { return segment.SecretTail(s.Current) }

// Valid returns the secrets that verify at now: the current one and every
// previous one still in its grace.
func (s SecretInfo) Valid(now time.Time) []string {
	var out []string
	for _, v := range s.Verifying(now) {
		out = append(out, v.Secret)
	}
	return out
}

func (s *Store) toWorkspace(r workspaceRow) (Workspace, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return Workspace{}, fmt.Errorf("workspace id %q: %w", r.ID, err)
	}
	return Workspace{ID: id, Name: r.Name, IsDefault: r.IsDefault, CreatedAt: r.CreatedAt.Time,
		FirstElementSignatures: r.FirstElementSignatures, SegmentDeletes: r.SegmentDeletes}, nil
}

// withSecrets is toWorkspace plus the workspace's shared secrets.
func (s *Store) withSecrets(ctx context.Context, r workspaceRow) (Workspace, error) {
	ws, err := s.toWorkspace(r)
	if err != nil {
		return Workspace{}, err
	}
	one := []Workspace{ws}
	if err := s.loadSecrets(ctx, one); err != nil {
		return Workspace{}, err
	}
	return one[0], nil
}

func newWorkspaceRow(name string, isDefault bool) workspaceRow {
	now := at(time.Now())
	return workspaceRow{ID: uuid.NewString(), Name: name, IsDefault: isDefault, SegmentDeletes: true, CreatedAt: now, UpdatedAt: now}
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
	return s.withSecrets(ctx, row)
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
	return s.withSecrets(ctx, row)
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
	if err := s.loadSecrets(ctx, out); err != nil {
		return nil, err
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
