package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

// maxFormBytes bounds a dashboard request body: our forms are a few fields.
const maxFormBytes = 64 << 10

// contentSecurityPolicy forbids inline script and every other origin, so an
// injected tag in a page can neither run nor load anything.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// pageHeaders sets the security headers every page for people carries.
func (s *Server) pageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Content-Type-Options", "nosniff")
		req := c.Request()
		if req.ContentLength > maxFormBytes {
			return errorf(http.StatusRequestEntityTooLarge, "this form is too large")
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, maxFormBytes)
		return next(c)
	}
}

// loadSession puts the session and, when signed in, the admin in the context.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.auth.Sessions.Get(c.Request(), auth.CookieName)
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		c.Set(ctxSession, sess)
		if raw, ok := sess.Values[auth.KeyAdminID].(string); ok {
			id, err := uuid.Parse(raw)
			if err != nil {
				return fmt.Errorf("session admin id: %w", err)
			}
			admin, err := s.auth.Admin(c.Request().Context(), id)
			switch {
			case err == nil:
				c.Set(ctxAdmin, admin)
			case !errors.Is(err, store.ErrNotFound):
				return fmt.Errorf("load admin: %w", err)
			}
		}
		return next(c)
	}
}

// requireAdmin sends anyone not signed in to the sign-in page, and back
// here afterwards.
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := s.admin(c); ok {
			return next(c)
		}
		target := "/login"
		if m := c.Request().Method; m == http.MethodGet || m == http.MethodHead {
			target += "?next=" + url.QueryEscape(c.Request().URL.RequestURI())
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// checkCSRF refuses any state-changing request whose csrf_token does not
// match the session's, before the handler runs, so nothing changes.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("csrf_token")
		}
		if !auth.TokensEqual(s.csrfToken(c), got) {
			return errorf(http.StatusForbidden, "This form has expired or did not come from this site. Reload the page and try again.")
		}
		return next(c)
	}
}

func (s *Server) session(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// admin is the signed-in admin, if any.
func (s *Server) admin(c echo.Context) (store.Admin, bool) {
	a, ok := c.Get(ctxAdmin).(store.Admin)
	return a, ok
}

func (s *Server) csrfToken(c echo.Context) string {
	if sess := s.session(c); sess != nil {
		tok, _ := sess.Values[auth.KeyCSRF].(string)
		return tok
	}
	return ""
}

func (s *Server) saveSession(c echo.Context) {
	sess := s.session(c)
	if sess == nil || sess.ID == "" {
		return
	}
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.logger(c).Warn("save session", "err", err)
	}
}

// flash leaves a one-time message for the next page (post/redirect/get).
func (s *Server) flash(c echo.Context, kind, msg string) {
	sess := s.session(c)
	if sess == nil {
		return
	}
	sess.Values[sessFlash] = msg
	sess.Values[sessFlashKind] = kind
	s.saveSession(c)
}

func (s *Server) popFlash(c echo.Context) (kind, msg string) {
	sess := s.session(c)
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
	s.saveSession(c)
	return kind, msg
}

// currentWorkspace is the workspace the admin is looking at: ?ws=<id> when
// it names one (remembered in the session), else the last one chosen, else
// the default.
func (s *Server) currentWorkspace(c echo.Context) (store.Workspace, error) {
	if ws, ok := c.Get(ctxWorkspace).(store.Workspace); ok {
		return ws, nil
	}
	ctx := c.Request().Context()
	sess := s.session(c)
	remembered := ""
	if sess != nil {
		remembered, _ = sess.Values[sessWorkspace].(string)
	}
	for _, raw := range []string{strings.TrimSpace(c.QueryParam("ws")), remembered} {
		ws, ok, err := s.workspaceByRawID(ctx, raw)
		if err != nil {
			return store.Workspace{}, err
		}
		if ok {
			if sess != nil && raw != remembered {
				sess.Values[sessWorkspace] = ws.ID.String()
				s.saveSession(c)
			}
			c.Set(ctxWorkspace, ws)
			return ws, nil
		}
	}
	ws, err := s.deps.Store.EnsureDefaultWorkspace(ctx)
	if err != nil {
		return store.Workspace{}, fmt.Errorf("default workspace: %w", err)
	}
	c.Set(ctxWorkspace, ws)
	return ws, nil
}

func (s *Server) workspaceByRawID(ctx context.Context, raw string) (store.Workspace, bool, error) {
	id, err := uuid.Parse(raw)
	if raw == "" || err != nil {
		return store.Workspace{}, false, nil
	}
	ws, err := s.deps.Store.Workspace(ctx, id)
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
func (s *Server) layoutProps(c echo.Context, title, active string) (templates.LayoutProps, error) {
	p := templates.LayoutProps{Title: title, Active: active, CSRFToken: s.csrfToken(c)}
	if a, ok := s.admin(c); ok {
		p.AdminEmail = a.Email
	}
	cur, err := s.currentWorkspace(c)
	if err != nil {
		return p, err
	}
	p.CurrentWorkspaceID = cur.ID.String()
	all, err := s.deps.Store.Workspaces(c.Request().Context())
	if err != nil {
		return p, err
	}
	for _, w := range all {
		p.Workspaces = append(p.Workspaces, templates.WorkspaceOption{ID: w.ID.String(), Name: w.Name, Current: w.ID == cur.ID})
	}
	// A page refreshing part of itself must not swallow a message meant for
	// the next page the admin opens.
	if c.Request().Header.Get(auth.BackgroundHeader) == "" {
		p.FlashKind, p.Flash = s.popFlash(c)
	}
	return p, nil
}
