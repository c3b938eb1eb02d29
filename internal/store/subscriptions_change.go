package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ChangeSubscription records the user's choice for a group and, when it
// changed something and ev is not nil, the event that tells of it
// (Unsubscribed / Subscribed), in one transaction: the timeline, audiences
// and exports never miss a change the sender obeys, nor show one that did
// not happen. It reports whether the choice changed.
func (s *Store) ChangeSubscription(ctx context.Context, ws uuid.UUID, userID, group string, subscribed bool, now time.Time, ev *NewEvent) (bool, error) {
	changed := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		n, err := exec(tx, "INSERT INTO subscriptions (workspace_id, user_id, group_key, subscribed, changed_at) "+
			"VALUES (?,?,?,?,?) ON CONFLICT (workspace_id, user_id, group_key) DO UPDATE SET subscribed = excluded.subscribed, "+
			"changed_at = excluded.changed_at WHERE subscriptions.subscribed <> excluded.subscribed",
			ws.String(), userID, group, subscribed, at(now))
		if err != nil {
			return fmt.Errorf("record subscription of a user of %s to %q: %w", ws, group, err)
		}
		if changed = n > 0; !changed || ev == nil {
			return nil
		}
		return insertChunks(tx, []NewEvent{*ev}, map[eventKey]bool{})
	})
	return changed, err
}
