package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// EventRaw returns one stored event's JSON text exactly as stored, by its
// row id within a workspace, or ErrNotFound. The events page offers it for
// download where it shows only part of an event.
func (s *Store) EventRaw(ctx context.Context, ws uuid.UUID, id int64) ([]byte, error) {
	var raw string
	err := s.db.WithContext(ctx).Model(&eventRow{}).Select("raw").
		Where("workspace_id = ? AND id = ?", ws.String(), id).Row().Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("event %d of %s: %w", id, ws, err)
	}
	return []byte(raw), nil
}
