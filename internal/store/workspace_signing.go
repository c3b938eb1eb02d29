package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// SetFirstElementSignatures turns on or off, for one workspace, the
// acceptance of JSON arrays whose X-Signature covers only element 0.
func (s *Store) SetFirstElementSignatures(ctx context.Context, id uuid.UUID, on bool) error {
	res := s.db.WithContext(ctx).Model(&workspaceRow{}).Where("id = ?", id.String()).
		Updates(map[string]any{"first_element_signatures": on, "updated_at": at(time.Now())})
	if res.Error != nil {
		return fmt.Errorf("set element-0 signatures of %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetSegmentDeletes turns on or off, for one workspace, treating Segment's
// "delete" calls as erasures of their userId.
func (s *Store) SetSegmentDeletes(ctx context.Context, id uuid.UUID, on bool) error {
	res := s.db.WithContext(ctx).Model(&workspaceRow{}).Where("id = ?", id.String()).
		Updates(map[string]any{"segment_deletes": on, "updated_at": at(time.Now())})
	if res.Error != nil {
		return fmt.Errorf("set segment deletes of %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
