package api

import (
	"compress/gzip"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/export"
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

// EventsList is GET /api/v1/events.
func (h *Handler) EventsList(c echo.Context) error {
	q := c.QueryParams()
	f, msg := EventFilter(q, store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID, Limit: 100})
	if msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > store.MaxEventPage {
			return jsonError(c, http.StatusBadRequest, "limit: a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if raw := q.Get("cursor"); raw != "" {
		cur, err := store.ParseEventCursor(raw)
		if err != nil {
			return jsonError(c, http.StatusBadRequest, "cursor: not a cursor this API gave")
		}
		f.Before = &cur
	}
	page, err := h.Store.ListEvents(c.Request().Context(), f)
	if err != nil {
		return h.unavailable(c, err)
	}
	out := make([]eventJSON, len(page.Events))
	for i, e := range page.Events {
		out[i] = eventJSON{MessageID: e.MessageID, Type: e.Type, Event: e.Event, UserID: e.UserID, AnonymousID: e.AnonymousID,
			Timestamp: e.Timestamp, ReceivedAt: e.ReceivedAt, Source: e.Source, Raw: json.RawMessage(e.Raw)}
	}
	next := ""
	if page.Older != nil {
		next = page.Older.String()
	}
	return c.JSON(http.StatusOK, map[string]any{"events": out, "next": next})
}

// EventsExport is GET /api/v1/events/export: every matching event as NDJSON,
// streamed page by page (constant memory), gzip when the client accepts it.
func (h *Handler) EventsExport(c echo.Context) error {
	f, msg := EventFilter(c.QueryParams(), store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID})
	if msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	return StreamNDJSON(c, h.Store, f, "events.ndjson")
}

// StreamNDJSON writes the export response; the dashboard's export link uses
// it too.
func StreamNDJSON(c echo.Context, st export.Lister, f store.EventFilter, filename string) error {
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "application/x-ndjson")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	res.Header().Add("Vary", "Accept-Encoding")
	w := http.ResponseWriter(res)
	// The server's write timeout bounds ordinary answers; an export of
	// millions of events may take minutes, so each page gets its own.
	rc := http.NewResponseController(res.Writer)
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(time.Minute)) }
	extend()
	flush := func() error { res.Flush(); extend(); return nil }
	var gz *gzip.Writer
	if acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
		res.Header().Set(echo.HeaderContentEncoding, "gzip")
		gz = gzip.NewWriter(res)
		flush = func() error {
			if err := gz.Flush(); err != nil {
				return err
			}
			res.Flush()
			extend()
			return nil
		}
	}
	res.WriteHeader(http.StatusOK)
	var out interface{ Write([]byte) (int, error) } = w
	if gz != nil {
		out = gz
	}
	_, err := export.Write(c.Request().Context(), st, f, out, flush)
	if gz != nil {
		if cerr := gz.Close(); err == nil {
			err = cerr
		}
	}
	// The status is sent; a failure now can only cut the stream short,
	// which the client sees as a truncated body.
	return err
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}
