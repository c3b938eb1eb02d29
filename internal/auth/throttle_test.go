package auth

import (
	"testing"
	"time"
)

func TestThrottleGrowingDelay(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	th := NewThrottle(5, 15*time.Minute, 30*time.Second, 15*time.Minute)
	th.Now = func() time.Time { return now }

	for i := 0; i < 4; i++ {
		th.Fail("k")
		if w := th.Wait("k"); w != 0 {
			t.Fatalf("locked after %d failures: %v", i+1, w)
		}
	}
	th.Fail("k")
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute}
	for i, w := range want {
		if got := th.Wait("k"); got != w {
			t.Fatalf("lockout %d: wait %v, want %v", i+1, got, w)
		}
		if th.Wait("other") != 0 {
			t.Fatal("another key is locked too")
		}
		now = now.Add(w) // wait it out, then fail once more
		if got := th.Wait("k"); got != 0 {
			t.Fatalf("still locked after the delay: %v", got)
		}
		th.Fail("k")
	}

	// A full quiet window later, the delay starts small again.
	now = now.Add(16 * time.Minute)
	for i := 0; i < 5; i++ {
		th.Fail("k")
	}
	if got := th.Wait("k"); got != 30*time.Second {
		t.Fatalf("after a quiet window: wait %v, want 30s", got)
	}

	th.Reset("k")
	if th.Wait("k") != 0 {
		t.Fatal("reset did not unlock")
	}
}

func TestThrottleWindowForgetsOldFailures(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	th := NewThrottle(5, 15*time.Minute, 30*time.Second, 15*time.Minute)
	th.Now = func() time.Time { return now }
	for i := 0; i < 20; i++ { // one failure every 4 minutes never reaches 5 in 15 minutes
		th.Fail("k")
		if w := th.Wait("k"); w != 0 {
			t.Fatalf("locked at failure %d: %v", i+1, w)
		}
		now = now.Add(4 * time.Minute)
	}
}

func TestThrottleBoundedMemory(t *testing.T) {
	t.Parallel()
	th := NewThrottle(5, time.Minute, time.Second, time.Minute)
	for i := 0; i < maxKeys+10; i++ {
		th.Fail(string(rune(i)) + "x")
	}
	if n := len(th.entries); n > maxKeys {
		t.Fatalf("%d entries kept, limit %d", n, maxKeys)
	}
}
