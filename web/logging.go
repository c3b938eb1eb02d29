package web

import (
	"github.com/inlet-dev/inlet/internal/metrics"
	"log/slog"
	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/static"
	"github.com/labstack/echo/v4"
)

// selfLogging marks a route whose handler writes its own line per request
// (workspace, outcome, count): an access line would only double it. As route
// middleware it runs only when that handler does, so a 405, or a CORS
// preflight answered by group middleware, still gets its access line.
var selfLogging = mark("inlet.self_logged")

func selfLogged(c echo.Context) bool { return marked(c, "inlet.self_logged") }

// quietRoutes are polled by orchestrators and scrapers every few seconds:
// their lines go to debug so they do not bury everything else.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// requestLogging puts a request-scoped logger into the request context,
// answers errors here (so the status it logs and counts is the one sent) and
// writes one access line per request for routes that do not log their own.
func (s *Server) requestLogging(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		log := s.log.With("request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		req = req.WithContext(reqlog.With(req.Context(), log))
		c.SetRequest(req)

		if err := next(c); err != nil {
			c.Error(err)
		}

		took := time.Since(start)
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := c.Response().Status
		if s.metrics != nil {
			s.metrics.ObserveHTTP(route, req.Method, status, took)
		}
		if selfLogged(c) {
			return nil
		}
		level := slog.LevelInfo
		switch {
		case status >= 500:
			level = slog.LevelError
		case quietRoutes[route] || strings.HasPrefix(route, static.Prefix):
			level = slog.LevelDebug
		}
		// The route pattern, never the path or its query: paths carry ids
		// (/api/v1/users/dave) that an erasure must not leave behind in the
		// logs, and the route already says which handler answered.
		log.LogAttrs(req.Context(), level, "http",
			slog.String("method", metrics.Method(req.Method)), slog.String("route", route),
			slog.Int("status", status), slog.Int64("bytes", c.Response().Size),
			slog.Int64("ms", took.Milliseconds()), slog.String("ip", c.RealIP()))
		return nil
	}
}
