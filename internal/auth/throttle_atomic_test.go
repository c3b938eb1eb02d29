package auth

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Security review item 4: 150 parallel guesses must not all pass the check
// before any is counted.
func TestThrottleBeginIsAtomic(t *testing.T) {
	t.Parallel()
	th := NewThrottle(5, 15*time.Minute, 30*time.Second, 15*time.Minute)
	var passed atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a, _ := th.Begin(Check{"pair", 5}, Check{"addr", 20})
			if a == nil {
				return
			}
			passed.Add(1)
			time.Sleep(10 * time.Millisecond) // the password check
			a.Done(false)
		}()
	}
	close(start)
	wg.Wait()
	if n := passed.Load(); n != 5 {
		t.Fatalf("%d parallel guesses were checked, want exactly the limit of 5", n)
	}
	if a, wait := th.Begin(Check{"pair", 5}); a != nil || wait < 29*time.Second {
		t.Fatalf("after 5 failures: attempt %v, wait %v; want locked", a, wait)
	}
}

// Security review item 5: failures from one address do not lock the same
// account at another address.
func TestThrottleAccountAtAddress(t *testing.T) {
	t.Parallel()
	th := NewThrottle(5, 15*time.Minute, 30*time.Second, 15*time.Minute)
	for range 5 {
		a, _ := th.Begin(Check{"acct|attacker", 5}, Check{"attacker", 20})
		a.Done(false)
	}
	if a, _ := th.Begin(Check{"acct|attacker", 5}, Check{"attacker", 20}); a != nil {
		t.Fatal("attacker not throttled")
	}
	a, wait := th.Begin(Check{"acct|admin", 5}, Check{"admin", 20})
	if a == nil {
		t.Fatalf("the admin's own address is locked out for %v", wait)
	}
	a.Done(true, "acct|admin")
}
