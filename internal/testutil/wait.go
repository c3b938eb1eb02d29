// Package testutil is what tests of every package share that is not a
// server or a database: the one way to wait for something to happen.
//
// Tests do not sleep. A test that needs something to happen polls what it
// can observe (a count, a status, a log line) through Wait, with a deadline
// long enough for a loaded machine; a test that must prove something did
// NOT happen first waits for the component to report that it looked and
// decided (a hook the component calls, see internal/status.Options.OnFlush
// and the like), then asserts.
package testutil

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// DefaultWait is how long Wait waits before it fails the test: generous,
// because a passing test returns as soon as the condition holds and only a
// failing one waits it out; a shared CI machine running two suites at once
// must not turn slowness into failures.
const DefaultWait = 30 * time.Second

// Patience stretches a deadline by INLET_TEST_PATIENCE (a factor, default
// 1; e.g. 3 on a machine known to be slow). Deadlines that bound how long
// a test may wait for a sign of progress go through it; deadlines that are
// the behaviour under test (a timeout the server must answer within) do not.
func Patience(d time.Duration) time.Duration {
	if f, err := strconv.ParseFloat(os.Getenv("INLET_TEST_PATIENCE"), 64); err == nil && f > 0 {
		return time.Duration(float64(d) * f)
	}
	return d
}

// Wait polls cond until it holds, or fails the test after DefaultWait
// (stretched by Patience) naming what it waited for. The poll starts at
// 1 ms and backs off to 10 ms, so a condition that holds quickly costs
// little, a short-lived state is still seen, and a long wait does not spin.
func Wait(t testing.TB, what string, cond func() bool) {
	t.Helper()
	WaitWithin(t, DefaultWait, what, cond)
}

// WaitWithin is Wait with its own deadline (stretched by Patience).
func WaitWithin(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Eventually(d, cond) {
		t.Fatalf("waited %s for %s", Patience(d), what)
	}
}

// Eventually polls cond until it holds (true) or d (stretched by Patience)
// passes (false), for callers that report the failure themselves.
func Eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(Patience(d))
	pause := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		if pause < 10*time.Millisecond {
			pause *= 2
		}
	}
}
