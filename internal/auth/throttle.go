package auth

import (
	"sync"
	"time"
)

// Throttle slows down guessing: after Limit failures for one key (an
// address, or an account at an address) within Window, that key is refused
// for a delay that doubles with each further failure, up to MaxDelay.
// State is in memory, per instance: a restart forgets it (which costs an
// attacker a restart they cannot cause), and N instances behind a load
// balancer allow up to N times the limit (see docs/security.md).
type Throttle struct {
	Limit     int
	Window    time.Duration
	BaseDelay time.Duration
	MaxDelay  time.Duration
	Now       func() time.Time

	mu      sync.Mutex
	entries map[string]*failures
}

type failures struct {
	at          []time.Time // failures within Window, oldest first
	lockedUntil time.Time
	strikes     int // lockouts so far, for the growing delay
	pending     int // attempts begun and not yet reported (see Begin)
}

// Check is one key an attempt counts against, with its own limit.
type Check struct {
	Key   string
	Limit int
}

// Attempt is a guess that Begin let through; report its outcome with Done.
type Attempt struct {
	t      *Throttle
	checks []Check
	once   sync.Once
}

// busyRetry is the wait given to an attempt refused because earlier ones
// for the same key are still being checked: they decide within a second.
const busyRetry = time.Second

// Begin checks and counts an attempt against every key in one step under
// the lock, so no number of parallel requests gets more password checks
// than the limit: an attempt in progress counts as a failure until Done
// says otherwise. It returns the wait (and a nil Attempt) when any key is
// locked or already has its limit of failures plus attempts in progress.
func (t *Throttle) Begin(checks ...Check) (*Attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	var wait time.Duration
	for _, c := range checks {
		f, ok := t.entries[c.Key]
		if !ok {
			continue
		}
		if d := f.lockedUntil.Sub(now); d > wait {
			wait = d
		}
		f.at = trimBefore(f.at, now.Add(-t.Window))
		// Not locked: attempts may run while failures plus attempts in
		// progress stay under the limit; once a lock has expired, one at a
		// time (its failure locks again, for longer).
		if f.pending > 0 && len(f.at)+f.pending >= c.Limit && wait < busyRetry {
			wait = busyRetry
		}
	}
	if wait > 0 {
		return nil, wait
	}
	for _, c := range checks {
		t.entry(c.Key, now).pending++
	}
	return &Attempt{t: t, checks: checks}, 0
}

// Abandon ends an attempt that checked no password (the database failed):
// it counts neither way.
func (a *Attempt) Abandon() {
	a.once.Do(func() {
		a.t.mu.Lock()
		defer a.t.mu.Unlock()
		for _, c := range a.checks {
			if f, ok := a.t.entries[c.Key]; ok {
				f.pending = max(f.pending-1, 0)
			}
		}
	})
}

// Done reports the attempt's outcome: a failure counts against every key
// (and may lock it); a success clears the keys listed in reset.
func (a *Attempt) Done(ok bool, reset ...string) {
	a.once.Do(func() {
		t := a.t
		t.mu.Lock()
		defer t.mu.Unlock()
		now := t.Now()
		for _, c := range a.checks {
			f := t.entry(c.Key, now)
			f.pending = max(f.pending-1, 0)
			if !ok {
				t.fail(f, now, c.Limit)
			}
		}
		if ok {
			for _, k := range reset {
				if f, found := t.entries[k]; found && f.pending == 0 {
					delete(t.entries, k)
				} else if found {
					f.at, f.lockedUntil, f.strikes = nil, time.Time{}, 0
				}
			}
		}
	})
}

// entry returns key's state, creating it (and pruning when full). Callers hold mu.
func (t *Throttle) entry(key string, now time.Time) *failures {
	f, ok := t.entries[key]
	if !ok {
		if len(t.entries) >= maxKeys {
			t.prune(now)
		}
		f = &failures{}
		t.entries[key] = f
	}
	return f
}

// maxKeys bounds memory under a flood of distinct addresses or emails.
const maxKeys = 50000

// NewThrottle returns a throttle with the given failure limit per window.
func NewThrottle(limit int, window, base, max time.Duration) *Throttle {
	return &Throttle{Limit: limit, Window: window, BaseDelay: base, MaxDelay: max, Now: time.Now, entries: map[string]*failures{}}
}

// Wait says how long key must wait before it may try again; 0 = go ahead.
func (t *Throttle) Wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.entries[key]
	if !ok {
		return 0
	}
	if d := f.lockedUntil.Sub(t.Now()); d > 0 {
		return d
	}
	return 0
}

// Fail records a failure for key and locks it when the limit is reached.
func (t *Throttle) Fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	t.fail(t.entry(key, now), now, t.Limit)
}

func (t *Throttle) fail(f *failures, now time.Time, limit int) {
	f.at = trimBefore(f.at, now.Add(-t.Window))
	if len(f.at) == 0 && now.After(f.lockedUntil) {
		f.strikes = 0 // a quiet window wipes the slate: the delay starts small again
	}
	f.at = append(f.at, now)
	if len(f.at) < limit {
		return
	}
	delay := t.BaseDelay << f.strikes
	if delay > t.MaxDelay || delay <= 0 {
		delay = t.MaxDelay
	}
	f.strikes++
	f.lockedUntil = now.Add(delay)
}

// Reset forgets key's failures, after a successful sign-in.
func (t *Throttle) Reset(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, key)
}

func (t *Throttle) prune(now time.Time) {
	for k, f := range t.entries {
		if f.pending == 0 && now.After(f.lockedUntil) && len(trimBefore(f.at, now.Add(-t.Window))) == 0 {
			delete(t.entries, k)
		}
	}
	if len(t.entries) >= maxKeys {
		// Still full of live entries: start over rather than grow without bound.
		t.entries = map[string]*failures{}
	}
}

func trimBefore(at []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(at) && at[i].Before(cutoff) {
		i++
	}
	return at[i:]
}
