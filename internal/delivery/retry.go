package delivery

import (
	"math/rand/v2"
	"time"
)

// DefaultSchedule is the wait before each retry, after the first attempt
// (made as soon as the event is committed) failed: Svix's published
// schedule. The last step repeats until the retry period ends.
var DefaultSchedule = []time.Duration{5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour,
	5 * time.Hour, 10 * time.Hour, 10 * time.Hour}

// Policy decides when a failed event is tried again, and when Inlet gives up.
type Policy struct {
	Schedule []time.Duration // DESTINATION_RETRY_SCHEDULE
	RetryFor time.Duration   // DESTINATION_RETRY_FOR: give up this long after the first failure
	Jitter   float64         // ± this fraction of each wait; 0.2 by default
}

func (p Policy) withDefaults() Policy {
	if len(p.Schedule) == 0 {
		p.Schedule = DefaultSchedule
	}
	if p.RetryFor <= 0 {
		p.RetryFor = 24 * time.Hour
	}
	if p.Jitter <= 0 || p.Jitter >= 1 {
		p.Jitter = 0.2
	}
	return p
}

// Next returns when to try again after the attempts-th attempt failed at
// now, the first failure having been at firstFailed; giveUp when the retry
// period is over. A receiver's Retry-After replaces the schedule's wait. The
// last attempt falls at the end of the period, never after it.
func (p Policy) Next(attempts int, firstFailed, now time.Time, retryAfter time.Duration) (next time.Time, giveUp bool) {
	p = p.withDefaults()
	deadline := firstFailed.Add(p.RetryFor)
	if !now.Before(deadline) {
		return time.Time{}, true
	}
	wait := retryAfter
	if wait <= 0 {
		wait = p.Schedule[min(max(attempts-1, 0), len(p.Schedule)-1)]
		// Jitter spreads the retries of many events that failed together.
		wait += time.Duration((rand.Float64()*2 - 1) * p.Jitter * float64(wait))
	}
	next = now.Add(wait)
	if next.After(deadline) {
		next = deadline
	}
	return next, false
}
