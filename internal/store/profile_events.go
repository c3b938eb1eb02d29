package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
		return s.listManyProfileEvents(ctx, ws, sc, before, limit)
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

// listManyProfileEvents is ListProfileEvents for a profile with more
// identities than one query may have branches: one query per group of
// maxTimelineBranches identities, each bounded like the single one. The
// newest limit events of all of them are among each group's newest limit,
// so merging the groups' pages (an event carrying two of the ids once)
// gives the page exactly.
func (s *Store) listManyProfileEvents(ctx context.Context, ws uuid.UUID, sc EventScope, before *EventCursor, limit int) (EventPage, error) {
	ids := make([][2]string, 0, len(sc.Users)+len(sc.Anons))
	for _, u := range sc.Users {
		ids = append(ids, [2]string{"u", u})
	}
	for _, a := range sc.Anons {
		ids = append(ids, [2]string{"a", a})
	}
	seen := map[int64]bool{}
	var all []ListedEvent
	more := false
	for start := 0; start < len(ids); start += maxTimelineBranches {
		var us, as []string
		for _, id := range ids[start:min(start+maxTimelineBranches, len(ids))] {
			if id[0] == "u" {
				us = append(us, id[1])
			} else {
				as = append(as, id[1])
			}
		}
		page, err := s.ListProfileEvents(ctx, ws, EventScope{Users: us, Anons: as, NoUser: sc.NoUser}, before, limit)
		if err != nil {
			return EventPage{}, err
		}
		more = more || page.Older != nil && len(page.Events) > 0
		for _, e := range page.Events {
			if !seen[e.ID] {
				seen[e.ID] = true
				all = append(all, e)
			}
		}
	}
	slices.SortFunc(all, func(x, y ListedEvent) int {
		if c := y.ReceivedAt.Compare(x.ReceivedAt); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	if len(all) > limit+1 {
		all = all[:limit+1]
	}
	if more && len(all) == limit {
		all = append(all, ListedEvent{}) // one group has more: offer the next page
	}
	return pageOf(all, EventFilter{WorkspaceID: ws, Before: before, Limit: limit}), nil
}
