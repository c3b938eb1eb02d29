package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// AdminSession is a signed-in browser. ID is a digest of the cookie's token,
// so reading this table does not let anyone sign in.
type AdminSession struct {
	ID         string
	AdminID    uuid.UUID
	Data       string // JSON of the session's values
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end, whatever the activity
}

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, a AdminSession) error {
	_, err := s.sql.ExecContext(ctx, s.rebind(
		"INSERT INTO admin_sessions (id, admin_id, data, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)"),
		a.ID, a.AdminID.String(), a.Data, s.timeArg(a.CreatedAt), s.timeArg(a.LastSeenAt), s.timeArg(a.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns one session or ErrNotFound. Expiry is the caller's call.
func (s *Store) Session(ctx context.Context, id string) (AdminSession, error) {
	var a AdminSession
	var admin string
	err := s.sql.QueryRowContext(ctx, s.rebind(
		"SELECT id, admin_id, data, created_at, last_seen_at, expires_at FROM admin_sessions WHERE id = ?"), id).
		Scan(&a.ID, &admin, &a.Data, &a.CreatedAt, &a.LastSeenAt, &a.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return AdminSession{}, ErrNotFound
	}
	if err != nil {
		return AdminSession{}, fmt.Errorf("load session: %w", err)
	}
	if a.AdminID, err = uuid.Parse(admin); err != nil {
		return AdminSession{}, fmt.Errorf("session admin id %q: %w", admin, err)
	}
	return a, nil
}

// UpdateSession saves a session's values and activity time; ErrNotFound when
// it was ended meanwhile (signed out elsewhere), so it is not brought back.
func (s *Store) UpdateSession(ctx context.Context, id, data string, lastSeen time.Time) error {
	res, err := s.sql.ExecContext(ctx, s.rebind("UPDATE admin_sessions SET data = ?, last_seen_at = ? WHERE id = ?"),
		data, s.timeArg(lastSeen), id)
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteSession ends one session. Ending one that is already gone is fine.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.sql.ExecContext(ctx, s.rebind("DELETE FROM admin_sessions WHERE id = ?"), id); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore removes sessions whose absolute end or idle limit has
// passed, keeping the table small.
func (s *Store) DeleteSessionsBefore(ctx context.Context, now time.Time, idleSince time.Time) (int64, error) {
	res, err := s.sql.ExecContext(ctx, s.rebind("DELETE FROM admin_sessions WHERE expires_at < ? OR last_seen_at < ?"),
		s.timeArg(now), s.timeArg(idleSince))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
