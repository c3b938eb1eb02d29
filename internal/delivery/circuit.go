package delivery

import (
	"net/http"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// Circuit tuning. While a receiver is down its worker sends one probe per
// backoff step (0.5 s doubling to 20 s: Options.ProbeMin, ProbeMax) instead
// of spending each waiting event's own retry schedule, so a receiver that
// comes back gets its backlog within one step (≤ 20 s plus the drain)
// rather than at the schedule's 5-minute or 30-minute step.
const (
	// circuitOpenAfter distinct events in a row got a receiver-down answer,
	// with no other answer in between: one event failing again and again
	// among others that succeed never opens the circuit.
	circuitOpenAfter  = 5
	circuitMinBackoff = 500 * time.Millisecond
	circuitMaxBackoff = 20 * time.Second
)

// receiverDown reports whether an attempt's result says the receiver
// itself is failing (no answer, 5xx, 429, 408) rather than refusing this
// one event: any other answer shows it is up.
func receiverDown(r Result) bool {
	return r.Err != nil || r.Status >= 500 || r.Status == http.StatusTooManyRequests || r.Status == http.StatusRequestTimeout
}

// circuit is one destination's circuit breaker, kept by its worker. Closed,
// events flow (retries when due, then the feed). It opens after
// circuitOpenAfter receiver-down answers with no other answer in between, so
// one event's failure among successes never opens it. Open, the worker
// sends only probes, one per backoff step, and never before a Retry-After;
// the first probe the receiver answers closes it and brings every pending
// retry forward (each event's own Retry-After still holds).
type circuit struct {
	state    store.Circuit
	minWait  time.Duration
	maxWait  time.Duration
	downs    map[int64]bool // events that got a receiver-down answer in a row while closed
	backoff  time.Duration  // the wait after the last failed probe
	feedNext bool           // the next probe takes the feed's next event (they alternate)
}

// newCircuit resumes the state another worker saved (a lease taken over
// after a restart keeps probing rather than flooding a down receiver).
func newCircuit(saved store.Circuit, minWait, maxWait time.Duration) *circuit {
	c := &circuit{state: saved, minWait: minWait, maxWait: maxWait, downs: map[int64]bool{}}
	if saved.Open() {
		c.backoff = minWait
		for range min(saved.Probes, 16) {
			c.backoff = min(2*c.backoff, maxWait)
		}
	}
	return c
}

func (c *circuit) open() bool { return c.state.Open() }

// probeDue reports whether an open circuit may send its next probe at now.
func (c *circuit) probeDue(now time.Time) bool {
	return c.state.NextProbe == nil || !now.Before(*c.state.NextProbe)
}

// afterBatch takes the results of a closed circuit's batch and reports
// whether they opened it.
func (c *circuit) afterBatch(items []*item, now time.Time) bool {
	wait, reason := time.Duration(0), ""
	for _, it := range items {
		if !receiverDown(it.res) {
			clear(c.downs) // the receiver answered: it is up, whatever this batch's other events got
			return false
		}
		if len(c.downs) < circuitOpenAfter {
			c.downs[it.eventID] = true
		}
		wait, reason = max(wait, it.res.RetryAfter), it.res.Reason()
	}
	if len(c.downs) < circuitOpenAfter {
		return false
	}
	clear(c.downs)
	since := now
	c.backoff = c.minWait
	c.state = store.Circuit{OpenSince: &since, Reason: reason}
	c.schedule(now, wait)
	return true
}

// afterProbe takes a probe's result and reports whether it closed the
// circuit (the caller then drains the pending retries).
func (c *circuit) afterProbe(r Result, now time.Time) bool {
	if !receiverDown(r) {
		c.state, c.backoff = store.Circuit{}, 0
		clear(c.downs)
		return true
	}
	c.state.Probes++
	c.state.Reason = r.Reason()
	c.backoff = min(max(2*c.backoff, c.minWait), c.maxWait)
	c.schedule(now, r.RetryAfter)
	return false
}

// schedule sets the next probe one backoff step away, or later when the
// receiver asked for a longer Retry-After.
func (c *circuit) schedule(now time.Time, retryAfter time.Duration) {
	next := now.Add(max(c.backoff, retryAfter))
	c.state.NextProbe = &next
}

// saved is the state to write with the step's progress.
func (c *circuit) saved() *store.Circuit {
	s := c.state
	return &s
}
