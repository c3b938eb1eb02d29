package credcache

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// Security review item 14: a flood of made-up keys never evicts a known
// one, and concurrent misses for one key cost one query.
func TestUnknownKeysDoNotEvictKnownOnes(t *testing.T) {
	var loads sync.Map // key → *atomic.Int32
	c := newTTLCache(time.Hour, func(_ context.Context, k string) (string, error) {
		n, _ := loads.LoadOrStore(k, new(atomic.Int32))
		n.(*atomic.Int32).Add(1)
		if k == "real-other" {
			time.Sleep(20 * time.Millisecond) // a query takes a while
		}
		if strings.HasPrefix(k, "real") {
			return "v-" + k, nil
		}
		return "", store.ErrNotFound
	})
	ctx := context.Background()
	if _, err := c.get(ctx, "real-key"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 * maxCacheEntries {
		c.get(ctx, fmt.Sprintf("made-up-%d", i))
	}
	if _, err := c.get(ctx, "real-key"); err != nil {
		t.Fatal(err)
	}
	if n, _ := loads.Load("real-key"); n.(*atomic.Int32).Load() != 1 {
		t.Fatalf("the known key was queried %d times: the flood evicted it", n.(*atomic.Int32).Load())
	}

	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); c.get(ctx, "real-other") }()
	}
	wg.Wait()
	if n, _ := loads.Load("real-other"); n.(*atomic.Int32).Load() != 1 {
		t.Fatalf("50 concurrent misses cost %d queries, want 1", n.(*atomic.Int32).Load())
	}
}
