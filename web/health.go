package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz says the process is up; it never touches the database so an
// orchestrator does not restart Inlet because PostgreSQL is down.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether Inlet can store events: database reachable, schema current.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.deps.Store.Ping(ctx); err != nil {
		return writeJSONError(c, unavailable("database unreachable", 5))
	}
	pending, err := s.deps.Store.HasPendingMigrations(ctx)
	if err != nil {
		return writeJSONError(c, unavailable("cannot read migration state", 5))
	}
	if pending {
		return writeJSONError(c, unavailable("migrations pending: run `inlet migrate up`", 30))
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "database": string(s.deps.Store.Dialect())})
}
