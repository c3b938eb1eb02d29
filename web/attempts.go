package web

import (
	"time"

	"github.com/google/uuid"
)

// Outcomes of a webhook delivery, as the dashboard's connection status shows them.
const (
	OutcomeAccepted     = "accepted"
	OutcomeDuplicate    = "duplicate"
	OutcomeBadSignature = "bad_signature"
	OutcomeNoSecret     = "no_secret"
	OutcomeBadBody      = "bad_body"
	OutcomeTooLarge     = "too_large"
	OutcomeUnavailable  = "unavailable"
)

// Attempt is one webhook delivery and what became of it.
type Attempt struct {
	At          time.Time
	WorkspaceID uuid.UUID
	Outcome     string
	Reason      string
	Status      int
	Accepted    int
	Duplicates  int
}

// AttemptRecorder receives every delivery to a known workspace. It is called
// on the hot path, so it must not block on I/O.
type AttemptRecorder interface {
	Record(Attempt)
}

type noAttempts struct{}

func (noAttempts) Record(Attempt) {}
