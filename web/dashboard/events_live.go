package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/live"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
)

// Live streams bound what the events page's Live mode may cost an instance.
const (
	maxLiveStreams  = 64               // open at once per instance; more get 503 (the browser retries)
	liveStreamLimit = 10 * time.Minute // a stream ends then; the browser reconnects where it was
	liveHeartbeat   = 15 * time.Second // a comment line keeps proxies from closing an idle stream
	livePoll        = time.Second
)

var liveStreams atomic.Int64

// liveRow is one event as the Live table shows it (the page's JavaScript
// puts each field in as text, never as markup).
type liveRow struct {
	ID          int64  `json:"id"`
	MessageID   string `json:"messageId"`
	ReceivedAt  string `json:"receivedAt"`
	Received    string `json:"received"`
	Type        string `json:"type"`
	Event       string `json:"event"`
	UserID      string `json:"userId"`
	AnonymousID string `json:"anonymousId"`
	Source      string `json:"source"`
	Test        bool   `json:"test,omitempty"` // Inlet's own test event
}

func liveRowOf(e store.FeedEvent, keys map[string]string) liveRow {
	key := ""
	if e.SourceKey != "" {
		if key = keys[e.SourceKey]; key == "" {
			key = "a deleted write key"
		}
	}
	src := sourceLabel(e.Source, key)
	return liveRow{ID: e.Cursor.ID, MessageID: e.MessageID, ReceivedAt: templates.ISOTime(e.ReceivedAt),
		Received: templates.FormatTime(e.ReceivedAt), Type: e.Type, Event: e.Event, UserID: e.UserID,
		AnonymousID: e.AnonymousID, Source: src, Test: store.IsTestEvent(e.MessageID)}
}

// EventsLive is GET /dashboard/events/live: server-sent events of the
// current workspace's events as they are committed (on any instance), with
// the events page's filter. Each message's id is the feed cursor, so a
// browser that reconnects (after a restart too) sends it back as
// Last-Event-ID and misses nothing recent.
func (h *Handler) EventsLive(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	form := newEventsForm(c)
	if errs := form.Validate(); len(errs) > 0 {
		return apperr.New(apperr.Invalid, "The filter is not valid; fix it on the events page first.")
	}
	var from *store.FeedCursor
	if last := c.Request().Header.Get("Last-Event-ID"); last != "" {
		if cur, err := live.ParseCursor(last); err == nil {
			from = &cur
		}
	}
	if liveStreams.Add(1) > maxLiveStreams {
		liveStreams.Add(-1)
		c.Response().Header().Set("Retry-After", "10")
		return apperr.New(apperr.Unavailable, "Too many live views are open; try again shortly.")
	}
	defer liveStreams.Add(-1)

	w := c.Response()
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	var mu sync.Mutex // the heartbeat and the batches write to one stream
	send := func(s string) error {
		mu.Lock()
		defer mu.Unlock()
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second))
		if _, err := w.Write([]byte(s)); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send("retry: 2000\n: live\n\n"); err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), liveStreamLimit)
	defer cancel()
	// The heartbeat must be done writing before the handler returns: after
	// that net/http finishes the response on the same buffered writer.
	beating := make(chan struct{})
	defer func() { cancel(); <-beating }()
	go func() {
		defer close(beating)
		t := time.NewTicker(liveHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if send(": ping\n\n") != nil {
					cancel()
					return
				}
			}
		}
	}()
	f := live.Filter{Type: form.Type, Event: form.Event, User: form.User, From: form.from, To: form.to}
	// Keys by name and prefix, never their ids; reloaded when a batch names
	// a key created since.
	keys, err := h.keyLabels(ctx, ws.ID)
	if err != nil {
		return err
	}
	// "following" says the stream has taken its start cursor: what commits
	// from now on is shown. The page says "Live" only then (an event committed
	// between the connection's opening and this point is before the start);
	// the comment line is for readers of the raw stream.
	started := func(store.FeedCursor) { _ = send(": following\nevent: following\ndata: {}\n\n") }
	err = live.Follow(ctx, h.Store, ws.ID, f, from, live.Options{Poll: livePoll, Started: started}, func(b live.Batch) error {
		rows := make([]liveRow, 0, len(b.Events))
		for _, e := range b.Events {
			if _, known := keys[e.SourceKey]; e.SourceKey != "" && !known {
				if fresh, err := h.keyLabels(ctx, ws.ID); err == nil {
					keys = fresh
				}
			}
			rows = append(rows, liveRowOf(e, keys))
		}
		data, err := json.Marshal(map[string]any{"events": rows, "skipped": b.Skipped, "skippedMore": b.SkippedMore})
		if err != nil {
			return err
		}
		return send(fmt.Sprintf("id: %s\nevent: events\ndata: %s\n\n", live.EncodeCursor(b.Cursor), data))
	})
	if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		logger(c).Warn("live events stream ended", "err", err)
	}
	return nil
}
