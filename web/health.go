package web

import (
	"context"
	"net/http"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/labstack/echo/v4"
)

// healthz says the process is up; it never touches the database so an
// orchestrator does not restart Inlet because PostgreSQL is down.
func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether Inlet can store events: database reachable, schema current.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return &apperr.Error{Code: apperr.Unavailable, Msg: "database unreachable", RetryAfter: 5, Err: err}
	}
	pending, err := s.store.HasPendingMigrations(ctx)
	if err != nil {
		return &apperr.Error{Code: apperr.Unavailable, Msg: "cannot read migration state", RetryAfter: 5, Err: err}
	}
	if pending {
		return apperr.TryLater("migrations pending: run `inlet migrate up`", 30)
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "database": string(s.store.Dialect())})
}

// discardMetrics answers analytics.js's own metrics posts (/m, /v1/m) and
// keeps nothing: the body is not read (net/http drains or drops it).
func discardMetrics(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]bool{"success": true})
}
