package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inlet-dev/inlet/internal/export"
	"github.com/inlet-dev/inlet/internal/reqlog"
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

// EventsList is GET /api/v1/events: one page (limit, 1 to 500), newest
// first, read and written a chunk at a time so that a page of large events
// never sits in memory whole.
func (h *Handler) EventsList(c echo.Context) error {
	q := c.QueryParams()
	if err := onlyParams(q, eventFilterParams("cursor", "limit")...); err != nil {
		return err
	}
	f, msg := store.ParseEventFilter(q, store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID})
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
	if err := onlyParams(c.QueryParams(), eventFilterParams()...); err != nil {
		return err
	}
	f, msg := store.ParseEventFilter(c.QueryParams(), store.EventFilter{WorkspaceID: tokenOf(c).WorkspaceID})
	if msg != "" {
		return invalid(msg)
	}
	if err := export.Serve(c.Response(), c.Request(), h.reads, f, "events.ndjson"); err != nil && !errors.Is(err, context.Canceled) {
		// The status is sent: the client sees a cut body; the log says why.
		reqlog.From(c.Request().Context()).Warn("export cut short", "err", err)
	}
	return nil
}

// eventFilterParams names ParseEventFilter's parameters, and more.
func eventFilterParams(more ...string) []string {
	return append([]string{"type", "event", "user", "from", "to"}, more...)
}
