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
