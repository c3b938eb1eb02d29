package web

import (
	"net/http"

	"github.com/inlet-dev/inlet/static"
	"github.com/labstack/echo/v4"
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
	e.Use(s.requestLogging) // request-scoped logger, access line, HTTP metrics
	e.Use(s.recoverPanics)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsShow)

	hook := e.Group("/api/public/webhooks")
	hook.Match([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, "/segment", s.webhookSegment, selfLogging)

	// Segment's HTTP Tracking API for apps and libraries: write-key auth, and
	// CORS for any origin without credentials (analytics.js in browsers).
	api := s.newTrackingAPI()
	v1 := e.Group("/v1", trackingCORS)
	for _, r := range []struct{ path, kind string }{
		{"/batch", ""}, {"/b", ""}, {"/track", "track"}, {"/t", "track"},
		{"/identify", "identify"}, {"/i", "identify"}, {"/page", "page"}, {"/p", "page"},
		{"/screen", "screen"}, {"/s", "screen"}, {"/group", "group"}, {"/g", "group"},
		{"/alias", "alias"}, {"/a", "alias"},
	} {
		v1.Match([]string{http.MethodPost, http.MethodOptions}, r.path, api.handler(r.kind), selfLogging)
	}

	// Content-hash URLs, cached for a year (see package static).
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))

	// Pages for people: security headers and sessions everywhere; sign-in has
	// its own CSRF cookie because there is no session yet.
	page := []echo.MiddlewareFunc{s.pageHeaders, s.loadSession}
	e.GET("/", s.rootRedirect)
	e.GET("/login", s.loginShow, page...)
	e.POST("/login", s.loginSubmit, page...)
	e.POST("/logout", s.logout, page...) // checks its CSRF token itself: signed out already is fine

	dash := e.Group("/dashboard", s.pageHeaders, s.loadSession, s.requireAdmin, s.checkCSRF)
	dash.GET("", s.rootRedirect)
	dash.GET("/settings", s.settingsShow)
	dash.GET("/status.json", s.statusJSON)
	dash.GET("/events", s.eventsList)
	dash.POST("/settings/secret", s.secretSave)
	dash.POST("/settings/secret/revoke-previous", s.secretRevokePrevious)
	dash.POST("/settings/secret/clear", s.secretClear)
	dash.POST("/settings/test-event", s.testEventSend)
	dash.POST("/workspaces", s.workspaceCreate)
	dash.POST("/settings/writekeys", api.keyCreate)
	dash.POST("/settings/writekeys/:id/revoke", api.keyRevoke)
}
