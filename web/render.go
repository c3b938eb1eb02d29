package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gorilla/sessions"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// render writes a templ component as an HTML page. It renders into a buffer
// first, so a template error becomes a clean error page instead of half a
// page followed by garbage.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	ctx := c.Request().Context()
	if sess, ok := c.Get(ctxSession).(*sessions.Session); ok {
		if tok, _ := sess.Values[auth.KeyCSRF].(string); tok != "" {
			ctx = templates.WithCSRF(ctx, tok)
		}
	}
	if err := comp.Render(ctx, &buf); err != nil {
		return fmt.Errorf("render %s: %w", c.Path(), err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	// Pages carry a CSRF token and workspace data: never let a shared cache keep them.
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(status)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// isPagePath says whether errors at path are shown to people (an HTML page)
// rather than to programs (JSON).
func isPagePath(path string) bool {
	return path == "/login" || path == "/logout" || path == "/dashboard" || strings.HasPrefix(path, "/dashboard/")
}

// renderErrorPage is the HTML form of an apiError, for dashboard pages.
func renderErrorPage(c echo.Context, e *apiError) error {
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	title := http.StatusText(e.Status)
	if title == "" {
		title = "Error"
	}
	return render(c, e.Status, templates.ErrorPage(templates.ErrorPageProps{Status: e.Status, Title: title, Message: e.Msg}))
}
