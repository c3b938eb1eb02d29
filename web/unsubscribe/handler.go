// Package unsubscribe is the public one-click unsubscribe surface of RFC
// 8058: POST /u/{token} unsubscribes at once (no session, no CSRF: the
// token is the proof), GET /u/{token} shows a page with a button and a way
// to subscribe again. Routes are listed in web/routes.go.
package unsubscribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// Handler holds exactly what the surface uses.
type Handler struct {
	Store *store.Store
	Email *email.Service
}

// maxForm bounds the body of a POST: the one-click body is 26 bytes.
const maxForm = 4 << 10

// Source is the source of the Unsubscribed/Subscribed events it records.
const Source = "messages"

// notFound is the one answer for any token that does not verify: it says
// nothing about why.
func notFound(err error) error {
	return &apperr.Error{Code: apperr.NotFound, Msg: "this unsubscribe link is not valid", Err: err}
}

func (h *Handler) subscriber(c echo.Context) (email.Subscriber, error) {
	tk, err := h.Email.Tokens(c.Request().Context())
	if err != nil {
		return email.Subscriber{}, err
	}
	sub, err := tk.Parse(c.Param("token"))
	if err != nil {
		return email.Subscriber{}, notFound(err)
	}
	return sub, nil
}

// Show is GET /u/:token: the page, changing nothing.
func (h *Handler) Show(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	sub, err := h.subscriber(c)
	if err != nil {
		return err
	}
	name, subscribed, err := h.state(c.Request().Context(), sub)
	if err != nil {
		return err
	}
	return render.Page(c, http.StatusOK, templates.Unsubscribe(templates.UnsubscribeProps{
		Action: "/u/" + url.PathEscape(c.Param("token")), GroupName: name, Subscribed: subscribed}))
}

// Submit is POST /u/:token: List-Unsubscribe=One-Click (a mail client) or
// action=unsubscribe|subscribe (the page's buttons).
func (h *Handler) Submit(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	sub, err := h.subscriber(c)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, maxForm+1))
	if err != nil {
		return fmt.Errorf("read unsubscribe body: %w", err)
	}
	if len(raw) > maxForm {
		return apperr.New(apperr.TooLarge, "body too large")
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return apperr.New(apperr.Invalid, "body: not a form")
	}
	ctx := c.Request().Context()
	subscribe := false
	switch {
	case form.Get("List-Unsubscribe") == "One-Click":
		if err := h.set(ctx, sub, false); err != nil {
			return err
		}
		return c.String(http.StatusOK, "unsubscribed\n")
	case form.Get("action") == "unsubscribe":
	case form.Get("action") == "subscribe":
		subscribe = true
	default:
		return apperr.New(apperr.Invalid, "body: List-Unsubscribe=One-Click or action=unsubscribe|subscribe")
	}
	if err := h.set(ctx, sub, subscribe); err != nil {
		return err
	}
	name, subscribed, err := h.state(ctx, sub)
	if err != nil {
		return err
	}
	changed := "unsubscribed"
	if subscribe {
		changed = "subscribed"
	}
	return render.Page(c, http.StatusOK, templates.Unsubscribe(templates.UnsubscribeProps{
		Action: "/u/" + url.PathEscape(c.Param("token")), GroupName: name, Subscribed: subscribed, Changed: changed}))
}

// state is the group's name and whether the user receives its email now:
// their own choice, else the group's default (opt-in groups: no).
func (h *Handler) state(ctx context.Context, sub email.Subscriber) (name string, subscribed bool, err error) {
	name, subscribed = sub.Group, true
	g, err := h.Store.SubscriptionGroup(ctx, sub.Workspace, sub.Group)
	switch {
	case err == nil:
		name, subscribed = g.Name, !g.OptIn
	case !errors.Is(err, store.ErrNotFound):
		return "", false, err
	}
	subs, err := h.Store.Subscriptions(ctx, sub.Workspace, sub.UserID)
	if err != nil {
		return "", false, err
	}
	for _, s := range subs {
		if s.Group == sub.Group {
			subscribed = s.Subscribed
		}
	}
	return name, subscribed, nil
}

// set records the choice and, when it changed something, a track event
// (Unsubscribed / Subscribed, source messages, properties.group) so it
// shows on the timeline, in audiences and in exports: both in one
// transaction. An erased user's choice is kept, without an event (their
// ids are suppressed).
func (h *Handler) set(ctx context.Context, sub email.Subscriber, subscribed bool) error {
	now := time.Now().UTC()
	suppressed, err := profiles.IsSuppressed(ctx, h.Store, sub.Workspace, store.IdentityUser, sub.UserID)
	if err != nil {
		return err
	}
	var ev *store.NewEvent
	if !suppressed {
		if ev, err = event(sub.Workspace, sub.UserID, sub.Group, subscribed, now); err != nil {
			return err
		}
	}
	_, err = h.Store.ChangeSubscription(ctx, sub.Workspace, sub.UserID, sub.Group, subscribed, now, ev)
	return err
}

// event is the track event that records a change of subscription.
func event(ws uuid.UUID, userID, group string, subscribed bool, now time.Time) (*store.NewEvent, error) {
	name := "Unsubscribed"
	if subscribed {
		name = "Subscribed"
	}
	id := uuid.NewString()
	raw, err := json.Marshal(map[string]any{"type": "track", "event": name, "userId": userID, "messageId": id,
		"timestamp": now.Format(time.RFC3339Nano), "properties": map[string]any{"group": group}})
	if err != nil {
		return nil, fmt.Errorf("encode %s event: %w", name, err)
	}
	return &store.NewEvent{WorkspaceID: ws, MessageID: id, Type: "track", Event: name,
		UserID: userID, Timestamp: now, ReceivedAt: now, Source: Source, Raw: raw}, nil
}
