package credcache

import (
	"context"
	"errors"
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
