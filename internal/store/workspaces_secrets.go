package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/segment"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// MaxSecrets is how many shared secrets of one workspace verify at once: the
// current one and the newest previous ones, each until its own grace ends.
// Saving one more drops the oldest previous secret at once.
const MaxSecrets = 3

// secretRow is one saved shared secret; ExpiresAt nil marks the current one.
type secretRow struct {
	ID          int64 `gorm:"primaryKey"`
	WorkspaceID string
	Secret      string // sealed (see cipher.go)
	SetAt       dbTime
	SetBy       string
	ExpiresAt   dbTime // zero (NULL) for the current secret
}

func (secretRow) TableName() string { return "workspace_secrets" }

// PreviousSecret is a replaced secret that still verifies until ExpiresAt.
type PreviousSecret struct {
	ID        int64
	Secret    string
	SetAt     time.Time
	SetBy     string
	ExpiresAt time.Time
}

// SecretTail is the end of a secret the dashboard and the delivery log may
// show: its last 4 characters, and never more than a quarter of it.
func SecretTail(secret string) string { return segment.SecretTail(secret) }

// VerifyingSecret is a secret that verifies now and how the delivery log
// names it: "current …a1b2" or "previous …c3d4".
type VerifyingSecret struct {
	Secret string
	Label  string
}

// Verifying lists the secrets that verify at now, the current one first,
// then the previous ones newest first.
func (s SecretInfo) Verifying(now time.Time) []VerifyingSecret {
	var out []VerifyingSecret
	if s.Current != "" {
		out = append(out, VerifyingSecret{s.Current, "current …" + SecretTail(s.Current)})
	}
	for _, p := range s.PreviousSecrets {
		if p.Secret != "" && now.Before(p.ExpiresAt) {
			out = append(out, VerifyingSecret{p.Secret, "previous …" + SecretTail(p.Secret)})
		}
	}
	return out
}

// loadSecrets fills the Secret of each workspace from workspace_secrets, in
// one query whatever the number of workspaces.
func (s *Store) loadSecrets(ctx context.Context, wss []Workspace) error {
	if len(wss) == 0 {
		return nil
	}
	ids := make([]string, len(wss))
	for i, ws := range wss {
		ids[i] = ws.ID.String()
	}
	var rows []secretRow
	if err := s.db.WithContext(ctx).Where("workspace_id IN ?", ids).Order("set_at DESC, id DESC").Find(&rows).Error; err != nil {
		return fmt.Errorf("load shared secrets: %w", err)
	}
	for i := range wss {
		info := SecretInfo{}
		for _, r := range rows {
			if r.WorkspaceID != ids[i] {
				continue
			}
			plain, err := s.openSecret(r.Secret)
			if err != nil {
				return fmt.Errorf("workspace %s secret %d: %w", ids[i], r.ID, err)
			}
			if r.ExpiresAt.IsZero() {
				info.Current, info.SetAt, info.SetBy = plain, r.SetAt.ptr(), r.SetBy
				continue
			}
			info.PreviousSecrets = append(info.PreviousSecrets, PreviousSecret{ID: r.ID, Secret: plain,
				SetAt: r.SetAt.Time, SetBy: r.SetBy, ExpiresAt: r.ExpiresAt.Time})
		}
		if len(info.PreviousSecrets) > 0 {
			p := info.PreviousSecrets[0]
			exp := p.ExpiresAt
			info.Previous, info.PreviousExpiresAt = p.Secret, &exp
		}
		wss[i].Secret = info
	}
	return nil
}

// SetSecret saves a new current secret. Every secret it replaces keeps
// verifying until its own grace ends (now + grace for the one replaced now),
// so saving twice in a row never drops the one Segment still signs with;
// at most MaxSecrets are kept, the oldest previous one dropped first.
func (s *Store) SetSecret(ctx context.Context, id uuid.UUID, secret, by string, grace time.Duration) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		// Lock the workspace so two saves at once queue instead of both
		// retiring the same current secret.
		var ws workspaceRow
		q := tx.Where("id = ?", id.String())
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		err := q.Take(&ws).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load workspace %s: %w", id, err)
		}
		var rows []secretRow
		if err := tx.Where("workspace_id = ?", id.String()).Order("set_at DESC, id DESC").Find(&rows).Error; err != nil {
			return fmt.Errorf("load shared secrets of %s: %w", id, err)
		}
		now := time.Now().UTC()
		var drop []int64
		var kept []secretRow
		for _, r := range rows {
			plain, err := s.openSecret(r.Secret)
			if err != nil {
				return err
			}
			switch {
			case plain == secret:
				drop = append(drop, r.ID) // saved again: it becomes the current one below
			case r.ExpiresAt.IsZero():
				if err := tx.Model(&secretRow{}).Where("id = ?", r.ID).Update("expires_at", at(now.Add(grace))).Error; err != nil {
					return fmt.Errorf("retire the current secret of %s: %w", id, err)
				}
				kept = append(kept, r)
			case !now.Before(r.ExpiresAt.Time):
				drop = append(drop, r.ID) // grace over
			default:
				kept = append(kept, r)
			}
		}
		// kept is newest first; beyond MaxSecrets-1 previous ones, drop the oldest.
		for i, r := range kept {
			if i >= MaxSecrets-1 {
				drop = append(drop, r.ID)
			}
		}
		if len(drop) > 0 {
			if err := tx.Where("id IN ?", drop).Delete(&secretRow{}).Error; err != nil {
				return fmt.Errorf("drop old secrets of %s: %w", id, err)
			}
		}
		row := secretRow{WorkspaceID: id.String(), Secret: s.sealSecret(secret), SetAt: at(now), SetBy: by}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("save secret for workspace %s: %w", id, err)
		}
		return tx.Model(&workspaceRow{}).Where("id = ?", id.String()).Update("updated_at", at(now)).Error
	})
}

// RevokePreviousSecret ends the grace of every previous secret now.
func (s *Store) RevokePreviousSecret(ctx context.Context, id uuid.UUID) error {
	if err := s.workspaceExists(ctx, id); err != nil {
		return err
	}
	if err := s.db.WithContext(ctx).Where("workspace_id = ? AND expires_at IS NOT NULL", id.String()).Delete(&secretRow{}).Error; err != nil {
		return fmt.Errorf("revoke previous secrets of %s: %w", id, err)
	}
	return nil
}

// RevokeSecret ends the grace of one previous secret now. The current secret
// cannot be revoked this way (ClearSecret removes all): ErrNotFound.
func (s *Store) RevokeSecret(ctx context.Context, id uuid.UUID, secretID int64) error {
	res := s.db.WithContext(ctx).Where("workspace_id = ? AND id = ? AND expires_at IS NOT NULL", id.String(), secretID).Delete(&secretRow{})
	if res.Error != nil {
		return fmt.Errorf("revoke secret %d of %s: %w", secretID, id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// ClearSecret removes every secret: the webhook then answers 503 so Segment
// keeps retrying until a new one is saved.
func (s *Store) ClearSecret(ctx context.Context, id uuid.UUID) error {
	if err := s.workspaceExists(ctx, id); err != nil {
		return err
	}
	if err := s.db.WithContext(ctx).Where("workspace_id = ?", id.String()).Delete(&secretRow{}).Error; err != nil {
		return fmt.Errorf("clear secrets of %s: %w", id, err)
	}
	return nil
}

func (s *Store) workspaceExists(ctx context.Context, id uuid.UUID) error {
	var n int64
	if err := s.db.WithContext(ctx).Model(&workspaceRow{}).Where("id = ?", id.String()).Count(&n).Error; err != nil {
		return fmt.Errorf("workspace %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// EncryptSecrets rewrites plaintext secrets encrypted with ENCRYPTION_KEY and
// returns how many workspaces had any.
func (s *Store) EncryptSecrets(ctx context.Context) (int, error) {
	if s.cipher == nil {
		return 0, errors.New("ENCRYPTION_KEY is not set")
	}
	var touched []string
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var rows []secretRow
		if err := tx.Find(&rows).Error; err != nil {
			return fmt.Errorf("list shared secrets: %w", err)
		}
		for _, r := range rows {
			if isSealed(r.Secret) {
				continue
			}
			plain, err := s.openSecret(r.Secret)
			if err != nil {
				return err
			}
			if err := tx.Model(&secretRow{}).Where("id = ?", r.ID).Update("secret", s.cipher.seal(plain)).Error; err != nil {
				return fmt.Errorf("encrypt secret of %s: %w", r.WorkspaceID, err)
			}
			if !slices.Contains(touched, r.WorkspaceID) {
				touched = append(touched, r.WorkspaceID)
			}
		}
		return nil
	})
	return len(touched), err
}
