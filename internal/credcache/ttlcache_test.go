package credcache

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

func TestTTLCache(t *testing.T) {
	calls := 0
	var answer error // what the "database" says next
	c := newTTLCache(time.Hour, func(_ context.Context, k string) (string, error) {
		calls++
		if answer != nil {
			return "", answer
		}
		if k == "unknown" {
			return "", store.ErrNotFound
		}
		return "v-" + k, nil
	})
	ctx := context.Background()
	for range 3 {
		if v, err := c.get(ctx, "a"); v != "v-a" || err != nil {
			t.Fatalf("get a = %q, %v", v, err)
		}
		if _, err := c.get(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
	}
	if calls != 2 {
		t.Fatalf("%d loads for 2 keys asked 3 times: known and unknown keys must both be cached", calls)
	}

	// Expired entries are reloaded; while the database fails, the last known
	// value keeps answering, and a key never seen gets the error.
	c.ttl = 0
	answer = errors.New("database down")
	if v, err := c.get(ctx, "a"); v != "v-a" || err != nil {
		t.Fatalf("stale a while down = %q, %v", v, err)
	}
	if _, err := c.get(ctx, "b"); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("never-seen key while down: %v, want the database error", err)
	}
	answer = nil
	c.invalidate()
	calls = 0
	if v, _ := c.get(ctx, "a"); v != "v-a" || calls != 1 {
		t.Fatalf("after invalidate: %q with %d loads", v, calls)
	}
}

// An expired entry is refreshed, but a database that hangs does not make
// every request wait lookupTimeout: after staleWait the entry it had
// answers (issue 19 item 16 shortened the lifetime to 1 s, so expiry during
// an outage is the rule, not the exception). A healthy refresh is used at
// once, so a change is seen as soon as the entry expires.
func TestTTLCacheHungRefreshAnswersStale(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	defer close(hang)
	var hung atomic.Bool
	c := newTTLCache(time.Hour, func(ctx context.Context, k string) (string, error) {
		if hung.Load() {
			select {
			case <-hang:
			case <-ctx.Done():
			}
			return "", ctx.Err()
		}
		return "v1-" + k, nil
	})
	ctx := context.Background()
	if v, _ := c.get(ctx, "a"); v != "v1-a" {
		t.Fatalf("first get %q", v)
	}
	c.mu.Lock()
	c.ttl = 0
	c.mu.Unlock()
	hung.Store(true)
	start := time.Now()
	v, err := c.get(ctx, "a")
	if took := time.Since(start); v != "v1-a" || err != nil || took >= lookupTimeout {
		t.Fatalf("expired entry with a hung database: %q %v after %v, want the known value before lookupTimeout", v, err, took)
	}
}
