package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// maxFormBytes bounds a dashboard request body: our forms are a few fields.
const maxFormBytes = 64 << 10

// contentSecurityPolicy forbids inline script and every other origin, so an
// injected tag in a page can neither run nor load anything.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// PageHeaders sets the security headers every page for people carries.
func (h *Handler) PageHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hdr := c.Response().Header()
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Referrer-Policy", "same-origin")
		hdr.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(h.BaseURL, "https://") {
			// Served over https: browsers keep to https for a year, so a
			// network attacker cannot downgrade a later visit and read the
			// session cookie or the secret on the settings page.
			hdr.Set("Strict-Transport-Security", "max-age=31536000")
		}
		req := c.Request()
		if req.ContentLength > maxFormBytes {
			return apperr.New(apperr.TooLarge, "this form is too large")
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, maxFormBytes)
		return next(c)
	}
}

// LoadSession puts the session and, when signed in, the admin in the context.
func (h *Handler) LoadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := h.Auth.Sessions.Get(c.Request(), auth.CookieName)
		if err != nil {
			return fmt.Errorf("load session: %w", err)
		}
		c.Set(ctxSession, sess)
		if tok, _ := sess.Values[auth.KeyCSRF].(string); tok != "" {
			// For the templates' forms (see render.Page).
			c.SetRequest(c.Request().WithContext(templates.WithCSRF(c.Request().Context(), tok)))
		}
		if raw, ok := sess.Values[auth.KeyAdminID].(string); ok {
			id, err := uuid.Parse(raw)
			if err != nil {
				return fmt.Errorf("session admin id: %w", err)
			}
			admin, err := h.Auth.Admin(c.Request().Context(), id)
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

// RequireAdmin sends anyone not signed in to the sign-in page, and back
// here afterwards. A browser that still sends a session cookie had a
// session that ended (idle or absolute timeout, or signed out elsewhere):
// the sign-in page says so. A form posted after that returns to the page
// it was posted from (its Referer, when that is a dashboard page here).
func (h *Handler) RequireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := h.admin(c); ok {
			return next(c)
		}
		req := c.Request()
		back := ""
		switch req.Method {
		case http.MethodGet, http.MethodHead:
			back = req.URL.RequestURI()
		default:
			back = sameSiteReferer(req)
		}
		q := url.Values{}
		if back != "" {
			q.Set("next", safeNext(back)) // only a dashboard path of this site survives
		}
		if _, err := req.Cookie(auth.CookieName); err == nil {
			q.Set("expired", "1")
		}
		target := "/login"
		if len(q) > 0 {
			target += "?" + q.Encode()
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// sameSiteReferer is the path and query of the Referer when it names a page
// of this site, "" otherwise.
func sameSiteReferer(req *http.Request) string {
	ref, err := url.Parse(req.Referer())
	if err != nil || ref.Host == "" || !strings.EqualFold(ref.Host, req.Host) {
		return ""
	}
	return ref.RequestURI()
}

// CheckCSRF refuses any state-changing request whose csrf_token does not
// match the session's, before the handler runs, so nothing changes.
func (h *Handler) CheckCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		got := c.Request().Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.FormValue("csrf_token")
		}
		if !auth.TokensEqual(h.csrfToken(c), got) {
			return errFormExpired
		}
		return next(c)
	}
}
