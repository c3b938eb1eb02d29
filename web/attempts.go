package web

import "github.com/inlet-dev/inlet/internal/status"

// The outcome names live in internal/status so metrics and the dashboard
// share them; these aliases keep handler code short.
const (
	OutcomeAccepted     = status.OutcomeAccepted
	OutcomeDuplicate    = status.OutcomeDuplicate
	OutcomeBadSignature = status.OutcomeBadSignature
	OutcomeNoSecret     = status.OutcomeNoSecret
	OutcomeBadBody      = status.OutcomeBadBody
	OutcomeTooLarge     = status.OutcomeTooLarge
	OutcomeUnavailable  = status.OutcomeUnavailable
)

// Attempt and AttemptRecorder are the status package's types.
type (
	Attempt         = status.Attempt
	AttemptRecorder = status.Recorder
)
