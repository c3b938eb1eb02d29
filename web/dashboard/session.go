package dashboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/gorilla/sessions"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// Keys of values kept in the echo context for one request.
const (
	ctxSession   = "inlet.session"
	ctxAdmin     = "inlet.admin"
	ctxWorkspace = "inlet.workspace"
)

// Keys of values kept in the session.
const (
	sessWorkspace = "ws"
	sessFlash     = "flash"
	sessFlashKind = "flash_kind"
)

func (h *Handler) session(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// admin is the signed-in admin, if any.
func (h *Handler) admin(c echo.Context) (store.Admin, bool) {
	a, ok := c.Get(ctxAdmin).(store.Admin)
	return a, ok
}

func (h *Handler) csrfToken(c echo.Context) string {
	if sess := h.session(c); sess != nil {
		tok, _ := sess.Values[auth.KeyCSRF].(string)
		return tok
	}
	return ""
}

func (h *Handler) saveSession(c echo.Context) {
	sess := h.session(c)
	if sess == nil || sess.ID == "" {
		return
	}
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		logger(c).Warn("save session", "err", err)
	}
}

// flash leaves a one-time message for the next page (post/redirect/get).
func (h *Handler) flash(c echo.Context, kind, msg string) {
	sess := h.session(c)
	if sess == nil {
		return
	}
	sess.Values[sessFlash] = msg
	sess.Values[sessFlashKind] = kind
	h.saveSession(c)
}

func (h *Handler) popFlash(c echo.Context) (kind, msg string) {
	sess := h.session(c)
	if sess == nil {
		return "", ""
	}
	msg, _ = sess.Values[sessFlash].(string)
	if msg == "" {
		return "", ""
	}
	kind, _ = sess.Values[sessFlashKind].(string)
	delete(sess.Values, sessFlash)
	delete(sess.Values, sessFlashKind)
	h.saveSession(c)
	return kind, msg
}

// currentWorkspace is the workspace the admin is looking at: ?ws=<id> when
// it names one (remembered in the session), else the last one chosen, else
// the default.
func (h *Handler) currentWorkspace(c echo.Context) (store.Workspace, error) {
	if ws, ok := c.Get(ctxWorkspace).(store.Workspace); ok {
		return ws, nil
	}
	ctx := c.Request().Context()
	sess := h.session(c)
	remembered := ""
	if sess != nil {
		remembered, _ = sess.Values[sessWorkspace].(string)
	}
	for _, raw := range []string{strings.TrimSpace(c.QueryParam("ws")), remembered} {
		ws, ok, err := h.workspaceByRawID(ctx, raw)
		if err != nil {
			return store.Workspace{}, err
		}
		if ok {
			if sess != nil && raw != remembered {
				sess.Values[sessWorkspace] = ws.ID.String()
				h.saveSession(c)
			}
			c.Set(ctxWorkspace, ws)
			return ws, nil
		}
	}
	ws, err := h.Store.EnsureDefaultWorkspace(ctx)
	if err != nil {
		return store.Workspace{}, fmt.Errorf("default workspace: %w", err)
	}
	c.Set(ctxWorkspace, ws)
	return ws, nil
}

func (h *Handler) workspaceByRawID(ctx context.Context, raw string) (store.Workspace, bool, error) {
	id, err := uuid.Parse(raw)
	if raw == "" || err != nil {
		return store.Workspace{}, false, nil
	}
	ws, err := h.Store.Workspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, false, nil
	}
	if err != nil {
		return store.Workspace{}, false, err
	}
	return ws, true, nil
}

// layoutProps fills what every dashboard page's Layout needs and takes the
// pending flash message.
func (h *Handler) layoutProps(c echo.Context, title, active string) (templates.LayoutProps, error) {
	p := templates.LayoutProps{Title: title, Active: active, CSRFToken: h.csrfToken(c)}
	if a, ok := h.admin(c); ok {
		p.AdminEmail = a.Email
	}
	cur, err := h.currentWorkspace(c)
	if err != nil {
		return p, err
	}
	p.CurrentWorkspaceID = cur.ID.String()
	all, err := h.Store.Workspaces(c.Request().Context())
	if err != nil {
		return p, err
	}
	for _, w := range all {
		p.Workspaces = append(p.Workspaces, templates.WorkspaceOption{ID: w.ID.String(), Name: w.Name, Current: w.ID == cur.ID})
	}
	// A page refreshing part of itself must not swallow a message meant for
	// the next page the admin opens.
	if c.Request().Header.Get(auth.BackgroundHeader) == "" {
		p.FlashKind, p.Flash = h.popFlash(c)
	}
	return p, nil
}
