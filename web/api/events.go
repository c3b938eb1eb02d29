package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/inlet-dev/inlet/internal/export"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

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
	f, msg := store.ParseEventFilter(q, store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID, Limit: 100})
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
	f, msg := store.ParseEventFilter(c.QueryParams(), store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID})
	if msg != "" {
		return jsonError(c, http.StatusBadRequest, msg)
	}
	return export.Serve(c.Response(), c.Request(), h.Store, f, "events.ndjson")
}
