// Package trackingapi serves Segment's HTTP Tracking API (/v1/*), so apps
// and Segment's own libraries can send to Inlet directly, authenticated by a
// workspace's write key instead of a shared secret.
package trackingapi

import (
	"github.com/inlet-dev/inlet/internal/credcache"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/labstack/echo/v4"
)

// Handler holds what the Tracking API uses.
type Handler struct {
	Keys     *credcache.WriteKeys // write keys by hash, cached; last-used writes
	Ingester *ingest.Ingester     // admission and group commits
	Attempts status.Recorder      // one record per call with a known key
}

// Handle serves one path; kind is the event type a single-call path implies
// ("track" for /v1/track and /v1/t), "" for the batch paths.
func (h *Handler) Handle(kind string) echo.HandlerFunc {
	return func(c echo.Context) error { return h.serve(c, kind) }
}
