package dashboard

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// defaultLanding is where a sign-in lands without a (valid) next.
const defaultLanding = "/dashboard/settings"

func (h *Handler) RootRedirect(c echo.Context) error {
	return c.Redirect(http.StatusFound, defaultLanding)
}

// safeNext keeps a redirect target only when it is a path of this site's
// dashboard: no scheme, no host, no "//" or "/\" (which browsers treat as
// another host), no control characters.
func safeNext(raw string) string {
	if raw == "" || len(raw) > 2048 || !strings.HasPrefix(raw, "/dashboard") ||
		strings.HasPrefix(raw, "//") || strings.ContainsAny(raw, "\\") {
		return defaultLanding
	}
	for _, r := range raw {
		if r < 0x20 || r == 0x7f {
			return defaultLanding
		}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		(u.Path != "/dashboard" && !strings.HasPrefix(u.Path, "/dashboard/")) {
		return defaultLanding
	}
	return u.RequestURI()
}

func (h *Handler) LoginShow(c echo.Context) error {
	next := safeNext(c.QueryParam("next"))
	if _, ok := h.admin(c); ok {
		return c.Redirect(http.StatusSeeOther, next)
	}
	p := templates.LoginProps{Next: next}
	if c.QueryParam("expired") != "" {
		p.Notice = "Your session ended, so you were signed out. Sign in again to go back to the page you were on."
		if next == defaultLanding {
			p.Notice = "Your session ended, so you were signed out. Sign in again to continue."
		}
	}
	return h.renderLogin(c, http.StatusOK, p)
}

func (h *Handler) renderLogin(c echo.Context, status int, p templates.LoginProps) error {
	tok, err := h.Auth.LoginToken(c.Response(), c.Request())
	if err != nil {
		return err
	}
	p.CSRFToken = tok
	if n, err := h.Store.CountAdmins(c.Request().Context()); err == nil && n == 0 {
		p.NoAdmin = true
	}
	return render.Page(c, status, templates.Login(p))
}

func (h *Handler) LoginSubmit(c echo.Context) error {
	email := strings.TrimSpace(c.FormValue("email"))
	password := c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	props := templates.LoginProps{Email: email, Next: next}
	if !h.Auth.CheckLoginToken(c.Request(), c.FormValue("csrf_token")) {
		props.Error = "The sign-in form expired. Please try again."
		return h.renderLogin(c, http.StatusForbidden, props)
	}
	if email == "" || password == "" {
		props.Error = "Enter your email and password."
		return h.renderLogin(c, http.StatusUnprocessableEntity, props)
	}
	// The one client address (internal/clientip): the direct peer, or with
	// TRUSTED_PROXIES the address those proxies saw. Never an
	// X-Forwarded-For the client wrote itself: it could set a fresh value on
	// every guess and never be throttled.
	addr := c.RealIP()
	admin, err := h.Auth.SignIn(c.Request().Context(), addr, email, password)
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		secs := int(math.Ceil(throttled.RetryAfter.Seconds()))
		c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
		props.Error = fmt.Sprintf("Too many failed sign-in attempts. Please wait %s and try again.", humanSeconds(secs))
		logger(c).Warn("sign-in throttled", "addr", addr, "retry_after_s", secs)
		return h.renderLogin(c, http.StatusTooManyRequests, props)
	case errors.Is(err, auth.ErrBadCredentials):
		props.Error = "Email or password is incorrect."
		logger(c).Info("sign-in failed", "addr", addr)
		return h.renderLogin(c, http.StatusUnauthorized, props)
	case err != nil:
		return fmt.Errorf("sign in: %w", err)
	}
	if _, err := h.Auth.Sessions.Start(c.Request(), c.Response(), admin.ID); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	// Sign-ins are rare, so this is a cheap moment to drop ended sessions.
	if n, err := h.Auth.Sessions.Prune(c.Request().Context()); err != nil {
		logger(c).Warn("prune sessions", "err", err)
	} else if n > 0 {
		logger(c).Debug("pruned expired sessions", "n", n)
	}
	logger(c).Info("signed in", "admin", admin.Email, "addr", addr)
	return c.Redirect(http.StatusSeeOther, next)
}

func (h *Handler) Logout(c echo.Context) error {
	if sess := h.session(c); sess != nil && sess.ID != "" {
		if !auth.TokensEqual(h.csrfToken(c), c.FormValue("csrf_token")) {
			return errFormExpired
		}
		if err := h.Auth.Sessions.End(c.Request(), c.Response(), sess); err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

func humanSeconds(secs int) string {
	switch {
	case secs <= 1:
		return "a second"
	case secs < 60:
		return fmt.Sprintf("%d seconds", secs)
	case secs < 120:
		return "a minute"
	default:
		return fmt.Sprintf("%d minutes", (secs+59)/60)
	}
}
