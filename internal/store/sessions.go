package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
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

type sessionRow struct {
	ID         string `gorm:"primaryKey"`
	AdminID    string
	Data       string
	CreatedAt  dbTime `gorm:"autoCreateTime:false"`
	LastSeenAt dbTime
	ExpiresAt  dbTime
}

func (sessionRow) TableName() string { return "admin_sessions" }

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, a AdminSession) error {
	row := sessionRow{ID: a.ID, AdminID: a.AdminID.String(), Data: a.Data,
		CreatedAt: at(a.CreatedAt), LastSeenAt: at(a.LastSeenAt), ExpiresAt: at(a.ExpiresAt)}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns one session or ErrNotFound. Expiry is the caller's call.
func (s *Store) Session(ctx context.Context, id string) (AdminSession, error) {
	var row sessionRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return AdminSession{}, ErrNotFound
	}
	if err != nil {
		return AdminSession{}, fmt.Errorf("load session: %w", err)
	}
	admin, err := uuid.Parse(row.AdminID)
	if err != nil {
		return AdminSession{}, fmt.Errorf("session admin id %q: %w", row.AdminID, err)
	}
	return AdminSession{ID: row.ID, AdminID: admin, Data: row.Data,
		CreatedAt: row.CreatedAt.Time, LastSeenAt: row.LastSeenAt.Time, ExpiresAt: row.ExpiresAt.Time}, nil
}

// UpdateSession saves a session's values and activity time; ErrNotFound when
// it was ended meanwhile (signed out elsewhere), so it is not brought back.
func (s *Store) UpdateSession(ctx context.Context, id, data string, lastSeen time.Time) error {
	res := s.db.WithContext(ctx).Model(&sessionRow{}).Where("id = ?", id).
		Updates(map[string]any{"data": data, "last_seen_at": at(lastSeen)})
	if res.Error != nil {
		return fmt.Errorf("update session: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteSession ends one session. Ending one that is already gone is fine.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Where("id = ?", id).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore removes sessions whose absolute end or idle limit has
// passed, keeping the table small.
func (s *Store) DeleteSessionsBefore(ctx context.Context, now time.Time, idleSince time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("expires_at < ? OR last_seen_at < ?", at(now), at(idleSince)).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", res.Error)
	}
	return res.RowsAffected, nil
}
