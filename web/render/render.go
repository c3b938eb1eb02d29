// Package render writes templ components as HTML pages: the one way the
// dashboard and the server's error pages reach the browser.
package render

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
)

// Page writes comp as an HTML page with status. It renders into a buffer
// first, so a template error becomes a clean error page instead of half a
// page followed by garbage. Components read cross-cutting values (the CSRF
// token) from the request's context, where the dashboard's session
// middleware put them.
func Page(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
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
