// Package webhook is the surface Segment's Webhooks destination posts to:
// POST /api/public/webhooks/segment, HMAC-signed with the workspace's shared
// secret. It answers 200 only once every event is committed.
package webhook

import (
	"github.com/inlet-dev/inlet/internal/credcache"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/status"
)

// Handler holds what the webhook uses.
type Handler struct {
	Workspaces   *credcache.Workspaces // workspaces and their secrets, cached
	Ingester     *ingest.Ingester      // admission and group commits
	Attempts     status.Recorder       // one record per delivery to a known workspace
	MaxBodyBytes int64                 // MAX_BODY_BYTES
	// FirstElementMaxEvents caps arrays signed over element 0 only
	// (FIRST_ELEMENT_MAX_EVENTS), where the workspace accepts those.
	FirstElementMaxEvents int
	// Erase honours Segment's deletion requests ("delete" calls) in
	// workspaces that treat them as erasures (the default).
	Erase Eraser
}
