package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/export"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

var eventTypes = []string{"track", "identify", "page", "screen", "group", "alias", "delete"}

// ParseTime reads a from/to bound: RFC 3339, or the events page's
// 2006-01-02T15:04 form taken as UTC. Empty is no bound.
func ParseTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil && t.Year() >= 1970 && t.Year() < 2200 {
			return t, true
		}
	}
	return time.Time{}, false
}

// EventFilter reads the events page's filters (type, event, user, from, to)
// from a query; the message says which is wrong.
func EventFilter(q map[string][]string, ws store.EventFilter) (store.EventFilter, string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := ws
	f.Type, f.Event, f.User = get("type"), get("event"), get("user")
	if f.Type != "" && !slices.Contains(eventTypes, f.Type) {
		return f, "type: one of " + strings.Join(eventTypes, ", ")
	}
	if badText(f.Event) || badText(f.User) {
		return f, "event/user: too long or not valid text"
	}
	var ok bool
	if f.From, ok = ParseTime(get("from")); !ok {
		return f, "from: an RFC 3339 time such as 2026-05-06T14:30:00Z"
	}
	if f.To, ok = ParseTime(get("to")); !ok {
		return f, "to: an RFC 3339 time such as 2026-05-06T15:00:00Z"
	}
	return f, ""
}

type eventJSON struct {
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`
	Event       string          `json:"event,omitempty"`
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	Timestamp   *time.Time      `json:"timestamp,omitempty"`
	ReceivedAt  time.Time       `json:"receivedAt"`
	Source      string          `json:"source"`
	Raw         json.RawMessage `json:"raw"`
}

// EventsList is GET /api/v1/events: one page (limit, 1 to 500), newest
// first, read and written a chunk at a time so that a page of large events
// never sits in memory whole.
func (h *Handler) EventsList(c echo.Context) error {
	q := c.QueryParams()
	f, msg := EventFilter(q, store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID})
	if msg != "" {
		return invalid(msg)
	}
	limit, err := limitParam(c, 100)
	if err != nil {
		return err
	}
	if raw := q.Get("cursor"); raw != "" {
		cur, err := store.ParseEventCursor(raw)
		if err != nil {
			return invalid("cursor: not a cursor this API gave")
		}
		f.Before = &cur
	}
	ctx := c.Request().Context()
	f.Limit = min(limit, chunk)
	page, err := h.reads.ListEvents(ctx, f)
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	// From here the answer is streamed: a failure can only cut it short.
	writeJSONStart(c)
	w := c.Response()
	enc := json.NewEncoder(w)
	_, _ = w.Write([]byte(`{"events":[`))
	n := 0
	for {
		for i, e := range page.Events {
			if n > 0 {
				_, _ = w.Write([]byte{','})
			}
			if err := enc.Encode(eventJSON{MessageID: e.MessageID, Type: e.Type, Event: e.Event, UserID: e.UserID,
				AnonymousID: e.AnonymousID, Timestamp: e.Timestamp, ReceivedAt: e.ReceivedAt, Source: e.Source,
				Raw: json.RawMessage(e.Raw)}); err != nil {
				return fmt.Errorf("write event: %w", err)
			}
			page.Events[i] = store.ListedEvent{} // written: let it go
			n++
		}
		if page.Older == nil || n >= limit {
			break
		}
		f.Before, f.Limit = page.Older, min(limit-n, chunk)
		if page, err = h.reads.ListEvents(ctx, f); err != nil {
			return fmt.Errorf("events list cut short after %d: %w", n, err)
		}
	}
	next := ""
	if page.Older != nil {
		next = page.Older.String()
	}
	return writeTail(w, next)
}

// EventsExport is GET /api/v1/events/export: every matching event as NDJSON,
// streamed page by page (constant memory), gzip when the client accepts it.
func (h *Handler) EventsExport(c echo.Context) error {
	f, msg := EventFilter(c.QueryParams(), store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID})
	if msg != "" {
		return invalid(msg)
	}
	if err := export.Serve(c.Response(), c.Request(), h.reads, f, "events.ndjson"); err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent: the client sees a cut body; the log says why.
		reqlog.From(c.Request().Context()).Warn("export cut short", "err", err)
	}
	return nil
}
