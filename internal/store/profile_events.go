package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// maxTimelineBranches bounds the per-identity branches of one timeline
// query (SQLite allows 500 terms in a compound SELECT); a profile holds at
// most PROFILE_MAX_ANONYMOUS_IDS anonymous ids plus its userIds, far below.
const maxTimelineBranches = 400

// ListProfileEvents returns one page of the events attributed to a profile
// (sc: its userIds, and the anonymous-only events of its anonymous ids),
// newest first, older than before when it is set. Each identity is read through its own
// index branch, stopping after limit+1 rows, so a user with millions of
// events costs as much as one with fifty.
func (s *Store) ListProfileEvents(ctx context.Context, ws uuid.UUID, sc EventScope, before *EventCursor, limit int) (EventPage, error) {
	users, anons := sc.Users, sc.Anons
	limit = pageLimit(limit)
	if len(users)+len(anons) == 0 {
		return EventPage{}, nil
	}
	if len(users)+len(anons) > maxTimelineBranches {
		return EventPage{}, fmt.Errorf("profile timeline: %d identities, at most %d", len(users)+len(anons), maxTimelineBranches)
	}
	cond := "workspace_id = ?"
	base := []any{ws.String()}
	if before != nil {
		cond += " AND (received_at, id) < (?, ?)"
		base = append(base, at(before.ReceivedAt), before.ID)
	}
	lim := " ORDER BY received_at DESC, id DESC LIMIT " + strconv.Itoa(limit+1)
	var branches []string
	var args []any
	add := func(col string, values []string, extra string, extraArgs []any) {
		for _, v := range values {
			branches = append(branches, "SELECT id FROM (SELECT id FROM events WHERE "+cond+" AND "+col+" = ?"+extra+lim+") b"+strconv.Itoa(len(branches)))
			args = append(append(append(args, base...), v), extraArgs...)
		}
	}
	add("user_id", users, "", nil)
	only, onlyArgs := sc.anonOnly()
	add("anonymous_id", anons, " AND "+only, onlyArgs)
	q := "SELECT " + listedColumns + " FROM events WHERE workspace_id = ? AND id IN (" + strings.Join(branches, " UNION ") + ")" + lim
	args = append([]any{ws.String()}, args...)
	var rows []listedRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return EventPage{}, fmt.Errorf("profile timeline in %s: %w", ws, err)
	}
	events := make([]ListedEvent, 0, len(rows))
	for _, r := range rows {
		events = append(events, ListedEvent{ID: r.ID, MessageID: r.MessageID, Type: r.Type, Event: r.Event,
			UserID: r.UserID, AnonymousID: r.AnonymousID, Timestamp: r.Timestamp.ptr(), ReceivedAt: r.ReceivedAt.Time,
			Source: r.Source, SourceKey: r.SourceKey, Raw: []byte(r.Raw)})
	}
	return pageOf(events, EventFilter{WorkspaceID: ws, Before: before, Limit: limit}), nil
}
