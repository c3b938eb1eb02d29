package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Admin is a person who may sign in to the dashboard.
type Admin struct {
	ID           uuid.UUID
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

type adminRow struct {
	ID           string `gorm:"primaryKey"`
	Email        string
	PasswordHash string
	CreatedAt    dbTime `gorm:"autoCreateTime:false"`
	UpdatedAt    dbTime `gorm:"autoUpdateTime:false"`
}

func (adminRow) TableName() string { return "admins" }

// NormalizeEmail is the one form an email takes in the admins table, so
// sign-in and uniqueness ignore case and surrounding spaces.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateAdmin adds an admin; ErrConflict when the email is taken.
func (s *Store) CreateAdmin(ctx context.Context, email, passwordHash string) (Admin, error) {
	now := time.Now().UTC()
	row := adminRow{ID: uuid.NewString(), Email: NormalizeEmail(email), PasswordHash: passwordHash, CreatedAt: at(now), UpdatedAt: at(now)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		if isUniqueViolation(err) {
			return Admin{}, ErrConflict
		}
		return Admin{}, fmt.Errorf("create admin %s: %w", row.Email, err)
	}
	return row.admin()
}

// CreateFirstAdmin adds the admin only when there is none yet and reports
// whether it did. Instances starting together with the same ADMIN_EMAIL race
// harmlessly: the unique email lets one insert win.
func (s *Store) CreateFirstAdmin(ctx context.Context, email, passwordHash string) (bool, error) {
	n, err := s.CountAdmins(ctx)
	if err != nil || n > 0 {
		return false, err
	}
	_, err = s.CreateAdmin(ctx, email, passwordHash)
	if errors.Is(err, ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// CountAdmins says how many admins exist.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&adminRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return int(n), nil
}

// AdminByEmail returns the admin with that email or ErrNotFound.
func (s *Store) AdminByEmail(ctx context.Context, email string) (Admin, error) {
	return s.admin(s.db.WithContext(ctx), "email = ?", NormalizeEmail(email))
}

// AdminByID returns the admin with that id or ErrNotFound.
func (s *Store) AdminByID(ctx context.Context, id uuid.UUID) (Admin, error) {
	return s.admin(s.db.WithContext(ctx), "id = ?", id.String())
}

func (s *Store) admin(db *gorm.DB, where string, arg any) (Admin, error) {
	var row adminRow
	err := db.Where(where, arg).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Admin{}, ErrNotFound
	}
	if err != nil {
		return Admin{}, fmt.Errorf("load admin: %w", err)
	}
	return row.admin()
}

func (r adminRow) admin() (Admin, error) {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return Admin{}, fmt.Errorf("admin id %q: %w", r.ID, err)
	}
	return Admin{ID: id, Email: r.Email, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.Time}, nil
}

// SetAdminPassword replaces an admin's password hash and ends every session
// of that admin in the same transaction: a reset locks out whoever knew the
// old password, including anyone holding a stolen cookie.
func (s *Store) SetAdminPassword(ctx context.Context, email, passwordHash string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		a, err := s.admin(tx, "email = ?", NormalizeEmail(email))
		if err != nil {
			return err
		}
		if err := tx.Model(&adminRow{}).Where("id = ?", a.ID.String()).
			Updates(map[string]any{"password_hash": passwordHash, "updated_at": at(time.Now())}).Error; err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if err := tx.Where("admin_id = ?", a.ID.String()).Delete(&sessionRow{}).Error; err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}
