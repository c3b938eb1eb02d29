package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Page sizes for ListEvents.
const (
	DefaultEventPage = 50
	MaxEventPage     = 500
)

// EventCursor is a position in the newest-first order: (received_at, id).
// Pages are read from a cursor, never with OFFSET, so page 10 000 costs what
// page 1 costs.
type EventCursor struct {
	ReceivedAt time.Time
	ID         int64
}

// String encodes the cursor for a URL: "<unix nanoseconds>-<id>".
func (c EventCursor) String() string {
	return strconv.FormatInt(c.ReceivedAt.UnixNano(), 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ErrBadCursor is returned by ParseEventCursor for anything it did not make.
var ErrBadCursor = errors.New("invalid page cursor")

// ParseEventCursor reads what EventCursor.String wrote.
func ParseEventCursor(s string) (EventCursor, error) {
	ns, id, ok := strings.Cut(s, "-")
	if !ok || len(s) > 64 {
		return EventCursor{}, ErrBadCursor
	}
	n, err1 := strconv.ParseInt(ns, 10, 64)
	i, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n < 0 || i <= 0 {
		return EventCursor{}, ErrBadCursor
	}
	return EventCursor{ReceivedAt: time.Unix(0, n).UTC(), ID: i}, nil
}

// EventFilter selects events of one workspace. Zero fields do not filter.
// Type matches exactly; Event and User ignore case, each through an index on
// lower(column) (migration 00016).
type EventFilter struct {
	WorkspaceID uuid.UUID
	Type        string
	Event       string
	User        string       // matches user_id or anonymous_id
	From        time.Time    // received_at >= From
	To          time.Time    // received_at < To
	Before      *EventCursor // older than this (the "Older" link)
	After       *EventCursor // newer than this (the "Newer" link)
	Limit       int          // 0 → DefaultEventPage

	countUpTo int // CountMatchingEvents: read ids only, at most countUpTo+1 of them
}

// ListedEvent is one event as the dashboard shows it.
type ListedEvent struct {
	ID          int64
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	Timestamp   *time.Time
	ReceivedAt  time.Time
	Source      string
	SourceKey   string
	Raw         []byte
}

// Cursor is this event's position in the page order.
func (e ListedEvent) Cursor() EventCursor { return EventCursor{ReceivedAt: e.ReceivedAt, ID: e.ID} }

// EventPage is one page, newest first. Older and Newer are the cursors for
// the neighbouring pages, nil when there is none.
type EventPage struct {
	Events []ListedEvent
	Older  *EventCursor
	Newer  *EventCursor
}

// listedRow is one events row as the page query reads it.
type listedRow struct {
	ID          int64
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	Timestamp   dbTime
	ReceivedAt  dbTime
	Source      string
	SourceKey   string
	Raw         string
}

// ListEvents returns one page of a workspace's events, newest first.
func (s *Store) ListEvents(ctx context.Context, f EventFilter) (EventPage, error) {
	q, args, err := listEventsSQL(f)
	if err != nil {
		return EventPage{}, err
	}
	var rows []listedRow
	if err := s.db.WithContext(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
		return EventPage{}, fmt.Errorf("list events of %s: %w", f.WorkspaceID, err)
	}
	events := make([]ListedEvent, 0, len(rows))
	for _, r := range rows {
		events = append(events, ListedEvent{ID: r.ID, MessageID: r.MessageID, Type: r.Type, Event: r.Event,
			UserID: r.UserID, AnonymousID: r.AnonymousID, Timestamp: r.Timestamp.ptr(), ReceivedAt: r.ReceivedAt.Time,
			Source: r.Source, SourceKey: r.SourceKey, Raw: []byte(r.Raw)})
	}
	if f.After != nil && len(events) <= pageLimit(f.Limit) {
		// Paging newer reached the top: show the full newest page rather
		// than a short one.
		top := f
		top.After = nil
		return s.ListEvents(ctx, top)
	}
	return pageOf(events, f), nil
}

// pageOf trims the one extra row read to learn whether more exist, puts
// newest first and sets the neighbour cursors.
func pageOf(events []ListedEvent, f EventFilter) EventPage {
	limit := pageLimit(f.Limit)
	more := len(events) > limit
	if more {
		events = events[:limit]
	}
	if f.After != nil {
		// Read oldest first to find the rows just above the cursor.
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	p := EventPage{Events: events}
	if len(events) == 0 {
		// Past either end: offer the way back to where the reader came from.
		if f.Before != nil {
			c := *f.Before
			p.Newer = &c
		}
		if f.After != nil {
			c := *f.After
			p.Older = &c
		}
		return p
	}
	first, last := events[0].Cursor(), events[len(events)-1].Cursor()
	if (f.After == nil && more) || f.After != nil {
		p.Older = &last
	}
	if (f.After != nil && more) || f.Before != nil {
		p.Newer = &first
	}
	return p
}

func pageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultEventPage
	case n > MaxEventPage:
		return MaxEventPage
	}
	return n
}

const listedColumns = "id, message_id, type, event, user_id, anonymous_id, timestamp, received_at, source, source_key, raw"

// listEventsSQL builds the page query, run through GORM's Raw: its shape is
// tuned for the planners (docs/events-performance.md), beyond what the
// builder can say, and ExplainListEvents must run exactly this text. With a user filter it reads the
// user_id and anonymous_id indexes separately (each stops after limit+1
// rows) and merges the two short lists: a plain OR would make PostgreSQL
// collect every matching row of a busy user before sorting.
func listEventsSQL(f EventFilter) (string, []any, error) {
	if f.WorkspaceID == uuid.Nil {
		return "", nil, errors.New("list events: workspace is required")
	}
	if f.Before != nil && f.After != nil {
		return "", nil, errors.New("list events: Before and After are exclusive")
	}
	limit := pageLimit(f.Limit) + 1
	cols := listedColumns
	if f.countUpTo > 0 {
		limit, cols = f.countUpTo+1, "id"
	}
	conds := []string{"workspace_id = ?"}
	args := []any{f.WorkspaceID.String()}
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.Event != "" {
		add("lower(event) = lower(?)", f.Event)
	}
	if !f.From.IsZero() {
		add("received_at >= ?", at(f.From))
	}
	if !f.To.IsZero() {
		add("received_at < ?", at(f.To))
	}
	order := "received_at DESC, id DESC"
	switch {
	case f.Before != nil:
		add("(received_at, id) < (?, ?)", at(f.Before.ReceivedAt), f.Before.ID)
	case f.After != nil:
		add("(received_at, id) > (?, ?)", at(f.After.ReceivedAt), f.After.ID)
		order = "received_at ASC, id ASC"
	}
	where := strings.Join(conds, " AND ")
	lim := " LIMIT " + strconv.Itoa(limit)
	if f.User == "" {
		q := "SELECT " + cols + " FROM events WHERE " + where + " ORDER BY " + order + lim
		return q, args, nil
	}
	branch := func(col string) string {
		return "SELECT id FROM (SELECT id FROM events WHERE " + where + " AND lower(" + col + ") = lower(?) ORDER BY " + order + lim + ")"
	}
	if f.countUpTo > 0 {
		// Counting needs the ids only: the union itself, no row fetched twice.
		q := branch("user_id") + " u UNION " + branch("anonymous_id") + " a"
		all := append(append(append([]any{}, args...), f.User), args...)
		return q, append(all, f.User), nil
	}
	q := "SELECT " + cols + " FROM events WHERE id IN (" +
		branch("user_id") + " u UNION " + branch("anonymous_id") + " a) ORDER BY " + order + lim
	all := make([]any, 0, 2*len(args)+2)
	all = append(append(append(all, args...), f.User), args...)
	all = append(all, f.User)
	return q, all, nil
}
