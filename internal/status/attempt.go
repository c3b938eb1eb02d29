// Package status keeps what the dashboard's connection status shows: every
// webhook delivery attempt and its outcome, aggregated in memory so the hot
// path pays almost nothing.
package status

import (
	"time"

	"github.com/google/uuid"
)

// Outcomes of a delivery, as the dashboard and metrics name them.
const (
	OutcomeAccepted     = "accepted"
	OutcomeDuplicate    = "duplicate"
	OutcomeSuppressed   = "suppressed" // every event was of an erased (suppressed) id: acknowledged, not stored
	OutcomeErased       = "erased"     // a Segment deletion request ("delete" call) erased its user
	OutcomeBadSignature = "bad_signature"
	OutcomeNoSecret     = "no_secret"
	OutcomeBadBody      = "bad_body"
	OutcomeTooLarge     = "too_large"
	OutcomeUnavailable  = "unavailable"
	OutcomeBadKey       = "bad_key" // HTTP Tracking API: missing or unknown write key
)

// Attempt is one delivery (a webhook request or a Tracking API call) and
// what became of it.
type Attempt struct {
	At          time.Time `json:"at"`
	WorkspaceID uuid.UUID `json:"workspaceId"`
	Source      string    `json:"source"` // "webhook" or "http_api"
	Outcome     string    `json:"outcome"`
	Reason      string    `json:"reason,omitempty"`
	Status      int       `json:"status"`
	Accepted    int       `json:"accepted"`
	Duplicates  int       `json:"duplicates"`
	Suppressed  int       `json:"suppressed"` // events of erased (suppressed) ids, acknowledged and not stored
	// Credential names what verified the delivery: "current …a1b2" /
	// "previous …c3d4" (a shared secret, by its tail only) or a write key's
	// name and prefix. Empty when nothing verified.
	Credential string `json:"credential,omitempty"`
}

// Recorder receives every attempt. It is called on the hot path, so
// implementations must not block on I/O.
type Recorder interface {
	Record(Attempt)
}

// Multi fans one attempt out to several recorders (status page, metrics).
type Multi []Recorder

// Record implements Recorder.
func (m Multi) Record(a Attempt) {
	for _, r := range m {
		if r != nil {
			r.Record(a)
		}
	}
}

// Discard is a Recorder that keeps nothing.
type Discard struct{}

// Record implements Recorder.
func (Discard) Record(Attempt) {}
