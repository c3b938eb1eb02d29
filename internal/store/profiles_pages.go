package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// identityShown leaves out the anonymous-id rows an alias's previousId made
// (no event carried the id as anonymousId): they only carry resolution.
const identityShown = "NOT (kind = 'anon' AND seen = FALSE)"

// ProfileIdentityPage lists limit identities of one profile from offset,
// users first, and how many it has in all.
func (s *Store) ProfileIdentityPage(ctx context.Context, ws uuid.UUID, key string, offset, limit int) ([]Identity, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := first(db, &total, "SELECT count(*) FROM profile_identities WHERE workspace_id = ? AND profile_key = ? AND "+identityShown,
		ws.String(), key); err != nil {
		return nil, 0, fmt.Errorf("count identities of %s: %w", key, err)
	}
	rows, err := db.Raw("SELECT "+identityCols+" FROM profile_identities WHERE workspace_id = ? AND profile_key = ? AND "+identityShown+
		" ORDER BY kind DESC, value LIMIT ? OFFSET ?", ws.String(), key, limit, offset).Rows()
	ids, err := scanIdentities(err, rows)
	return ids, total, err
}

// ProfileCarriedIDs lists the ids of one profile that events carry (seen):
// the userIds and anonymous ids its timeline reads.
func (s *Store) ProfileCarriedIDs(ctx context.Context, ws uuid.UUID, key string) (users, anons []string, err error) {
	var rows []struct{ Kind, Value string }
	err = all(s.db.WithContext(ctx), &rows, "SELECT kind, value FROM profile_identities WHERE workspace_id = ? AND profile_key = ? AND seen = TRUE ORDER BY kind, value",
		ws.String(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("ids of %s: %w", key, err)
	}
	for _, r := range rows {
		if r.Kind == IdentityUser {
			users = append(users, r.Value)
		} else {
			anons = append(anons, r.Value)
		}
	}
	return users, anons, nil
}
