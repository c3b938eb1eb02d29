package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// eventRow names the events table for the builder's counts and deletes;
// writes go through InsertEvents, reads scan into the domain types.
type eventRow struct {
	ID int64 `gorm:"primaryKey"`
}

func (eventRow) TableName() string { return "events" }

// CountEvents returns how many events a workspace holds.
func (s *Store) CountEvents(ctx context.Context, ws uuid.UUID) (int64, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&eventRow{}).Where("workspace_id = ?", ws.String()).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count events of %s: %w", ws, err)
	}
	return n, nil
}

// StoredEvent is one stored row as the lookup returns it.
type StoredEvent struct {
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	Source      string
	SourceKey   string
	Raw         []byte
}

// EventByMessageID returns the stored event with that message id, or
// ErrNotFound. Events are deduplicated per source, so several sources may
// each hold one with the same id: this returns the first one stored.
func (s *Store) EventByMessageID(ctx context.Context, ws uuid.UUID, messageID string) (StoredEvent, error) {
	var e StoredEvent
	err := s.db.WithContext(ctx).Model(&eventRow{}).
		Select("message_id, type, event, user_id, anonymous_id, source, source_key, raw").
		Where("workspace_id = ? AND message_id = ?", ws.String(), messageID).Order("id").Take(&e).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return StoredEvent{}, ErrNotFound
	}
	if err != nil {
		return StoredEvent{}, fmt.Errorf("event %q of %s: %w", messageID, ws, err)
	}
	return e, nil
}
