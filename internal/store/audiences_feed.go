package store

import (
	"context"
	"strings"

	"github.com/google/uuid"
)

// FeedNeed says which events' JSON a feed reader looks at: track events
// named in Names and calls of the types in Types come with their whole
// JSON; every other event comes with an empty Raw, so the database does
// not send a kilobyte per event the reader would not look at. (Readers
// pick what they need out of it in Go: a JSON path per property in
// PostgreSQL cost three times the CPU, taken from the webhook.)
// UpTo, when set, is the last position to read: a follower that trails
// another (the profile follower's cursor) neither reads nor sends rows it
// would only discard.
type FeedNeed struct {
	Names, Types []string
	UpTo         *FeedCursor
}

// ReadFeedFor is ReadFeed with Raw read only where need says so.
func (s *Store) ReadFeedFor(ctx context.Context, ws uuid.UUID, after FeedCursor, limit int, need FeedNeed) ([]FeedEvent, error) {
	if len(need.Names) == 0 && len(need.Types) == 0 {
		return s.readFeedOrdered(ctx, ws, after, need.UpTo, limit, "''", "")
	}
	var conds []string
	var args []any
	if len(need.Names) > 0 {
		conds = append(conds, "(type = 'track' AND event IN ("+placeholders(len(need.Names))+"))")
		args = strArgs(args, need.Names)
	}
	if len(need.Types) > 0 {
		conds = append(conds, "type IN ("+placeholders(len(need.Types))+")")
		args = strArgs(args, need.Types)
	}
	raw := "raw"
	if s.dialect == Postgres {
		raw = "raw::text"
	}
	expr := "CASE WHEN " + strings.Join(conds, " OR ") + " THEN " + raw + " ELSE '' END"
	return s.readFeedOrdered(ctx, ws, after, need.UpTo, limit, expr, "", args...)
}
