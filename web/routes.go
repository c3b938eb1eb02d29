package web

import (
	"net/http"

	"github.com/labstack/echo/v4/middleware"
)

// routes lists every route. The public webhook group has no session, no CSRF
// and no access log line of its own (the handler logs one line per delivery);
// the dashboard group adds sessions, CSRF and security headers.
func (s *Server) routes() {
	e := s.echo
	e.Pre(middleware.RequestIDWithConfig(middleware.RequestIDConfig{
		// Accept a caller's id only when it looks harmless in a log line.
		Generator: newRequestID,
	}))
	e.Use(s.recoverPanics)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	hook := e.Group("/api/public/webhooks")
	hook.Match([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, "/segment", s.webhookSegment)
}
