package web

import (
	"net/http"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/static"
	"github.com/inlet-dev/inlet/web/trackingapi"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// routes lists every route of every surface. The public webhook and /v1
// have no session, no CSRF and no access log line of their own (their
// handlers log one line per delivery); the pages for people add security
// headers, sessions, CSRF and HTML error pages. Errors from every route are
// answered by handleError (errors.go).
func (s *Server) routes() {
	e := s.echo
	// Accept a caller's id only when it looks harmless in a log line
	// (filterRequestID); otherwise make one.
	e.Pre(filterRequestID)
	e.Pre(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(s.requestLogging) // request-scoped logger, access line, HTTP metrics
	e.Use(recoverPanics)

	e.GET("/healthz", healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsShow)

	// Segment's Webhooks destination (web/webhook).
	hook := e.Group("/api/public/webhooks")
	// With a trailing slash too: a 404 is final for Segment, and the URL is
	// pasted by hand.
	for _, p := range []string{"/segment", "/segment/"} {
		hook.Match([]string{http.MethodPost, http.MethodPut, http.MethodPatch}, p, s.webhook.Segment, selfLogging)
	}

	// Segment's HTTP Tracking API for apps and libraries (web/trackingapi):
	// write-key auth, and CORS for any origin without credentials
	// (analytics.js in browsers).
	v1 := e.Group("/v1", trackingapi.CORS)
	for _, r := range []struct{ path, kind string }{
		{"/batch", ""}, {"/b", ""}, {"/track", segment.TypeTrack}, {"/t", segment.TypeTrack},
		{"/identify", segment.TypeIdentify}, {"/i", segment.TypeIdentify}, {"/page", segment.TypePage}, {"/p", segment.TypePage},
		{"/screen", segment.TypeScreen}, {"/s", segment.TypeScreen}, {"/group", segment.TypeGroup}, {"/g", segment.TypeGroup},
		{"/alias", segment.TypeAlias}, {"/a", segment.TypeAlias},
	} {
		v1.Match([]string{http.MethodPost, http.MethodOptions}, r.path, s.tracking.Handle(r.kind), selfLogging)
	}

	// analytics.js posts its own usage metrics to <host>/m (Segment's own
	// host: /v1/m) every 30 s. They are not events: answered 2xx so the
	// library is content, discarded unread, and marked self-logging so they
	// write no line per call (the HTTP metrics still count them).
	v1.Match([]string{http.MethodPost, http.MethodOptions}, "/m", discardMetrics, selfLogging)
	e.Match([]string{http.MethodPost, http.MethodOptions}, "/m", discardMetrics, trackingapi.CORS, selfLogging)

	// The read and erase API for scripts (web/api): Bearer API tokens of
	// one workspace, JSON errors; DELETE needs a write token. Lists and
	// exports run within the read budget (429 past it); single-profile
	// GETs and erasures do not count.
	a := s.api
	read, write := a.RequireToken(store.ScopeRead), a.RequireToken(store.ScopeWrite)
	apiV1 := e.Group("/api/v1")
	apiV1.GET("/openapi.json", a.OpenAPI)
	apiV1.GET("/users", a.UsersList, read, a.Budgeted)
	apiV1.GET("/users/:userId", a.UserShow, read)
	apiV1.DELETE("/users/:userId", a.UserDelete, write)
	apiV1.DELETE("/anonymous/:anonymousId", a.AnonymousDelete, write)
	apiV1.DELETE("/anonymous/:anonymousId/suppression", a.AnonymousSuppressionDelete, write)
	apiV1.DELETE("/suppressions/:userId", a.SuppressionDelete, write)
	apiV1.GET("/events", a.EventsList, read, a.Budgeted)
	apiV1.GET("/audiences", a.AudiencesList, read)
	apiV1.POST("/audiences", a.AudienceCreate, write)
	apiV1.POST("/audiences/preview", a.AudiencePreview, write)
	apiV1.GET("/audiences/:key", a.AudienceShow, read)
	apiV1.PUT("/audiences/:key", a.AudienceUpdate, write)
	apiV1.DELETE("/audiences/:key", a.AudienceDelete, write)
	apiV1.GET("/audiences/:key/members", a.AudienceMembers, read)
	apiV1.GET("/audiences/:key/explain", a.AudienceExplain, read)
	apiV1.GET("/audiences/:key/history", a.AudienceHistory, read)
	apiV1.GET("/events/export", a.EventsExport, read, a.Budgeted)
	apiV1.GET("/templates", a.TemplatesList, read)
	apiV1.POST("/templates", a.TemplateCreate, write)
	apiV1.GET("/templates/:key", a.TemplateShow, read)
	apiV1.PUT("/templates/:key", a.TemplateUpdate, write)
	apiV1.DELETE("/templates/:key", a.TemplateDelete, write)
	apiV1.POST("/templates/:key/render", a.TemplateRender, read) // renders, sends nothing
	apiV1.GET("/subscription-groups", a.GroupsList, read)
	apiV1.POST("/subscription-groups", a.GroupCreate, write)
	apiV1.GET("/subscription-groups/:key", a.GroupShow, read)
	apiV1.PUT("/subscription-groups/:key", a.GroupUpdate, write)
	apiV1.DELETE("/subscription-groups/:key", a.GroupDelete, write)
	apiV1.GET("/journeys", a.JourneysList, read)
	apiV1.POST("/journeys", a.JourneyCreate, write)
	apiV1.GET("/journeys/:key", a.JourneyShow, read)
	apiV1.PUT("/journeys/:key", a.JourneyUpdate, write)
	apiV1.DELETE("/journeys/:key", a.JourneyDelete, write)
	apiV1.GET("/journeys/:key/stats", a.JourneyStats, read)
	apiV1.GET("/messages", a.MessagesList, read, a.Budgeted)
	apiV1.GET("/bounces", a.BouncesList, read)
	apiV1.DELETE("/bounces/:address", a.BounceDelete, write)

	// Content-hash URLs, cached for a year (see package static).
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))

	// The documentation of the running version (web/docsite), linked from
	// the dashboard; public, like the repository it comes from.
	e.GET("/docs", s.docs.Index, htmlErrors, s.dashboard.PageHeaders)
	e.GET("/docs/:name", s.docs.Show, htmlErrors, s.dashboard.PageHeaders)

	// Pages for people (web/dashboard): HTML errors, security headers and
	// sessions everywhere; sign-in has its own CSRF cookie because there is
	// no session yet.
	d := s.dashboard
	page := []echo.MiddlewareFunc{htmlErrors, d.PageHeaders, d.LoadSession}
	e.GET("/", d.RootRedirect)
	e.GET("/login", d.LoginShow, page...)
	e.POST("/login", d.LoginSubmit, page...)
	e.POST("/logout", d.Logout, page...) // checks its CSRF token itself: signed out already is fine

	// One-click unsubscribe (web/unsubscribe, RFC 8058): public, no
	// session and no CSRF, the token is the proof; GET never changes anything.
	e.GET("/u/:token", s.unsubscribe.Show, htmlErrors, d.PageHeaders)
	e.POST("/u/:token", s.unsubscribe.Submit, htmlErrors, d.PageHeaders)

	dash := e.Group("/dashboard", append(page, d.RequireAdmin, d.CheckCSRF)...)
	dash.GET("", d.RootRedirect)
	dash.GET("/settings", d.SettingsShow)
	dash.GET("/events", d.EventsList)
	dash.GET("/events/live", d.EventsLive) // server-sent events for the events page's Live mode
	dash.GET("/events/:id/raw", d.EventRawDownload)
	dash.POST("/settings/secret", d.SecretSave)
	dash.POST("/settings/secret/revoke", d.SecretRevoke)
	dash.POST("/settings/secret/revoke-previous", d.SecretRevokePrevious)
	dash.POST("/settings/secret/clear", d.SecretClear)
	dash.POST("/settings/first-element-signatures", d.FirstElementSignaturesSave)
	dash.POST("/settings/segment-deletes", d.SegmentDeletesSave)
	dash.POST("/settings/test-event", d.TestEventSend)
	dash.POST("/settings/email", d.EmailSave)
	dash.POST("/settings/email/test", d.EmailTest)
	dash.POST("/workspaces", d.WorkspaceCreate)
	dash.POST("/settings/writekeys", d.WriteKeyCreate)
	dash.POST("/settings/writekeys/:id/revoke", d.WriteKeyRevoke)
	dash.POST("/settings/writekeys/:id/kind", d.WriteKeySetKind)
	dash.POST("/settings/api-tokens", d.APITokenCreate)
	dash.POST("/settings/api-tokens/:id/revoke", d.APITokenRevoke)
	dash.GET("/events/export", d.EventsExport)
	dash.POST("/events/replay", d.EventsReplay)
	dash.GET("/users", d.UsersList)
	dash.GET("/identity-warnings", d.IdentityWarnings)
	dash.GET("/users/:userId", d.UserShow)
	dash.POST("/users/:userId/delete", d.UserDelete)
	dash.POST("/users/:userId/unsuppress", d.UserUnsuppress)
	dash.GET("/anonymous/:anonymousId", d.AnonymousShow)
	dash.POST("/anonymous/:anonymousId/delete", d.AnonymousDelete)
	dash.POST("/anonymous/:anonymousId/unsuppress", d.AnonymousUnsuppress)
	// Journeys, their templates and what they sent (issue 21). The static
	// segments (new, validate) win over a journey or template of that key.
	dash.GET("/journeys", d.JourneysList)
	dash.GET("/journeys/new", d.JourneyNew)
	dash.POST("/journeys", d.JourneyCreate)
	dash.POST("/journeys/validate", d.JourneyValidate) // the editor's as-you-type check: JSON in and out
	dash.GET("/journeys/:key", d.JourneyShow)
	dash.GET("/journeys/:key/edit", d.JourneyEdit)
	dash.POST("/journeys/:key", d.JourneyUpdate)
	dash.POST("/journeys/:key/enable", d.JourneyEnable)
	dash.POST("/journeys/:key/disable", d.JourneyDisable)
	dash.GET("/templates", d.TemplatesList)
	dash.GET("/templates/new", d.TemplateNew)
	dash.POST("/templates", d.TemplateCreate)
	dash.GET("/templates/:key", d.TemplateShow)
	dash.POST("/templates/:key", d.TemplateUpdate)
	dash.GET("/messages", d.MessagesList)
	dash.POST("/messages/bounces/lift", d.BounceLift)
	dash.GET("/audiences", d.AudiencesList)
	dash.GET("/audiences/new", d.AudienceNew)
	dash.POST("/audiences", d.AudienceCreate)
	dash.POST("/audiences/preview", d.AudiencePreview)
	dash.GET("/audiences/:key", d.AudienceShow)
	dash.POST("/audiences/:key", d.AudienceUpdate)
	dash.POST("/audiences/:key/delete", d.AudienceDelete)
	dash.GET("/destinations", d.DestinationsList)
	dash.POST("/destinations", d.DestinationCreate)
	dash.GET("/destinations/:id", d.DestinationShow)
	// pause, resume, test, retry, rotate, replay
	dash.POST("/destinations/:id/:action", d.DestinationAction)

	// The connection status for the settings page's script: the dashboard's
	// session, but JSON errors, so it sits outside the group of pages.
	e.GET("/dashboard/status.json", d.StatusJSON, d.PageHeaders, d.LoadSession, d.RequireAdmin)
	// The journey page's counts, polled the same way.
	e.GET("/dashboard/journeys/:key/stats.json", d.JourneyStatsJSON, d.PageHeaders, d.LoadSession, d.RequireAdmin)

	// Last: a GET of any form's POST URL redirects to the form (formredirects.go).
	s.formGetRedirects(htmlErrors, d.PageHeaders)
}
