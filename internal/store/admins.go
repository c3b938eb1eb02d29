package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Admin is a person who may sign in to the dashboard.
type Admin struct {
	ID           uuid.UUID
	Email        string
	PasswordHash string
	CreatedAt    time.Time
}

// NormalizeEmail is the one form an email takes in the admins table, so
// sign-in and uniqueness ignore case and surrounding spaces.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateAdmin adds an admin; ErrConflict when the email is taken.
func (s *Store) CreateAdmin(ctx context.Context, email, passwordHash string) (Admin, error) {
	a := Admin{ID: uuid.New(), Email: NormalizeEmail(email), PasswordHash: passwordHash, CreatedAt: time.Now().UTC()}
	_, err := s.sql.ExecContext(ctx, s.rebind(
		"INSERT INTO admins (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"),
		a.ID.String(), a.Email, a.PasswordHash, s.timeArg(a.CreatedAt), s.timeArg(a.CreatedAt))
	if err != nil {
		if isUniqueViolation(err) {
			return Admin{}, ErrConflict
		}
		return Admin{}, fmt.Errorf("create admin %s: %w", a.Email, err)
	}
	return a, nil
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
	var n int
	if err := s.sql.QueryRowContext(ctx, "SELECT count(*) FROM admins").Scan(&n); err != nil {
		return 0, fmt.Errorf("count admins: %w", err)
	}
	return n, nil
}

// AdminByEmail returns the admin with that email or ErrNotFound.
func (s *Store) AdminByEmail(ctx context.Context, email string) (Admin, error) {
	return s.admin(ctx, "email = ?", NormalizeEmail(email))
}

// AdminByID returns the admin with that id or ErrNotFound.
func (s *Store) AdminByID(ctx context.Context, id uuid.UUID) (Admin, error) {
	return s.admin(ctx, "id = ?", id.String())
}

func (s *Store) admin(ctx context.Context, where string, arg any) (Admin, error) {
	var a Admin
	var id string
	err := s.sql.QueryRowContext(ctx, s.rebind("SELECT id, email, password_hash, created_at FROM admins WHERE "+where), arg).
		Scan(&id, &a.Email, &a.PasswordHash, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, ErrNotFound
	}
	if err != nil {
		return Admin{}, fmt.Errorf("load admin: %w", err)
	}
	if a.ID, err = uuid.Parse(id); err != nil {
		return Admin{}, fmt.Errorf("admin id %q: %w", id, err)
	}
	return a, nil
}

// SetAdminPassword replaces an admin's password hash and ends every session
// of that admin in the same transaction: a reset locks out whoever knew the
// old password, including anyone holding a stolen cookie.
func (s *Store) SetAdminPassword(ctx context.Context, email, passwordHash string) error {
	return s.withSQLTx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, s.rebind("SELECT id FROM admins WHERE email = ?"), NormalizeEmail(email)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("find admin: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind("UPDATE admins SET password_hash = ?, updated_at = ? WHERE id = ?"),
			passwordHash, s.timeArg(time.Now()), id); err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if _, err := tx.ExecContext(ctx, s.rebind("DELETE FROM admin_sessions WHERE admin_id = ?"), id); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		return nil
	})
}
