package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/labstack/echo/v4"
)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverPanics turns a panic into a 500 and a log line with the stack, and
// keeps the server running.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				reqlog.From(c.Request().Context()).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = apperr.New(apperr.Internal, "internal error")
			}
		}()
		return next(c)
	}
}

// htmlErrors marks the routes for people: their errors are answered with an
// HTML page. Every other route (the webhook, /v1, /dashboard/status.json,
// /metrics, health) answers {"error": "..."}.
var htmlErrors = mark("inlet.html_errors")

func wantsHTML(c echo.Context) bool { return marked(c, "inlet.html_errors") }

// mark is middleware that notes key on the request, for code that runs
// later (the access log, the error handler) to ask with marked.
func mark(key string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(key, true)
			return next(c)
		}
	}
}

func marked(c echo.Context, key string) bool {
	v, _ := c.Get(key).(bool)
	return v
}

// maxRequestIDLen bounds a caller's X-Request-Id: ids are echoed in the
// answer and written in every log line of the request.
const maxRequestIDLen = 64

// filterRequestID drops a caller's X-Request-Id unless it is a short id of
// safe characters (1–64 of A–Z, a–z, 0–9, '.', '_', '-'), so the request-id
// middleware that runs next makes a new one instead of echoing and logging
// whatever was sent (a 60 KB header was echoed back whole).
func filterRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !validRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func validRequestID(id string) bool {
	if len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
