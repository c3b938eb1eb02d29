package trackingapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// CORS lets pages on any origin send events (analytics.js posts
// text/plain to skip the preflight, but other browser code sends JSON with
// an Authorization header). No credentials are ever allowed: the write key
// travels in the request itself, never in a cookie, so no page can use an
// admin's session through this API. Only /v1/* carries these headers; the
// dashboard and the webhook stay same-origin.
func CORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if c.Request().Method != http.MethodOptions {
			// Lets browser code read how long to back off.
			h.Set("Access-Control-Expose-Headers", "Retry-After")
			return next(c)
		}
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization, Content-Encoding, X-Retry-Count")
		h.Set("Access-Control-Max-Age", "86400")
		return c.NoContent(http.StatusNoContent)
	}
}
