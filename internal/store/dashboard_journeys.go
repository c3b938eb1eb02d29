package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// SetJourneyEnabled enables or disables a journey without touching its
// definition (so no new version: the dashboard's enable and disable
// buttons must not undo an edit made meanwhile through the API).
func (s *Store) SetJourneyEnabled(ctx context.Context, ws uuid.UUID, key string, enabled bool) (JourneyRow, error) {
	n, err := exec(s.db.WithContext(ctx), "UPDATE journeys SET enabled = ?, updated_at = ? WHERE workspace_id = ? AND key = ?",
		enabled, at(time.Now()), ws.String(), key)
	if err != nil {
		return JourneyRow{}, fmt.Errorf("enable journey %q of %s: %w", key, ws, err)
	}
	if n == 0 {
		return JourneyRow{}, ErrNotFound
	}
	return s.Journey(ctx, ws, key)
}
