package auth

import (
	"sync"
	"time"
)

// Throttle slows down guessing: after Limit failures for one key (an
// address or an account) within Window, that key is refused for a delay
// that doubles with each further failure, up to MaxDelay. State is in
// memory: a restart forgets it, which costs an attacker a restart they
// cannot cause.
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
	f, ok := t.entries[key]
	if !ok {
		if len(t.entries) >= maxKeys {
			t.prune(now)
		}
		f = &failures{}
		t.entries[key] = f
	}
	f.at = trimBefore(f.at, now.Add(-t.Window))
	if len(f.at) == 0 && now.After(f.lockedUntil) {
		f.strikes = 0 // a quiet window wipes the slate: the delay starts small again
	}
	f.at = append(f.at, now)
	if len(f.at) < t.Limit {
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
		if now.After(f.lockedUntil) && len(trimBefore(f.at, now.Add(-t.Window))) == 0 {
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
