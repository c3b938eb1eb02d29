// Package credcache keeps the credentials the hot paths check (workspaces
// with their shared secrets for the webhook, write keys for the Tracking
// API) in memory for a few seconds, so a busy sender does not cost a query
// per request. The dashboard invalidates them when it changes one.
package credcache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"
	"golang.org/x/sync/singleflight"
)

// staleWait is how long a request waits for the refresh of an expired
// entry before answering with the entry it had.
const staleWait = 100 * time.Millisecond

// lookupTimeout bounds a cache refresh so that, with the ingester's own
// timeout, an answer always leaves before Segment's 5 s deadline.
const lookupTimeout = time.Second

// maxCacheEntries bounds the memory a flood of made-up ids or keys can take:
// unknown keys are kept apart from known ones, each side with this bound, so
// a flood of made-up keys only ever flushes other made-up keys.
const maxCacheEntries = 10000

// ttlCache keeps what the hot path looks up (workspaces with their secrets,
// write keys) in memory, so a busy sender does not cost a query per request.
// Entries live for ttl, so a change made by another instance (or the CLI) is
// seen within seconds; this instance's own changes call invalidate. Unknown
// keys are remembered too, so a flood of them costs no queries, and while the
// database cannot answer, what was known keeps answering: the request then
// fails (503) in the ingester, or succeeds once the database is back.
type ttlCache[K comparable, V any] struct {
	ttl  time.Duration
	load func(ctx context.Context, key K) (V, error) // store.ErrNotFound for unknown keys

	mu      sync.Mutex
	entries map[K]ttlEntry[V] // keys the database knows
	missing map[K]ttlEntry[V] // keys it does not know
	// flights makes concurrent misses for one key share one query.
	flights singleflight.Group
}

type ttlEntry[V any] struct {
	val     V
	missing bool
	at      time.Time
}

func newTTLCache[K comparable, V any](ttl time.Duration, load func(context.Context, K) (V, error)) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, load: load, entries: map[K]ttlEntry[V]{}, missing: map[K]ttlEntry[V]{}}
}

// get returns the value for key, or store.ErrNotFound, or the error that kept
// the database from answering (marked apperr.ErrUnavailable) when nothing is
// cached to answer with.
func (c *ttlCache[K, V]) get(ctx context.Context, key K) (V, error) {
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e, ok = c.missing[key]
	}
	c.mu.Unlock()
	if ok && time.Since(e.at) < c.ttl {
		return e.result()
	}
	// The query runs detached from any one caller's context (bounded by
	// lookupTimeout), so a caller giving up does not fail the others, and it
	// stores what it learns itself, for callers that stopped waiting.
	load := func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		v, err := c.load(lctx, key)
		switch {
		case err == nil:
			c.put(key, ttlEntry[V]{val: v, at: time.Now()})
		case errors.Is(err, store.ErrNotFound):
			c.put(key, ttlEntry[V]{missing: true, at: time.Now()})
		}
		return loaded[V]{v, err}, nil
	}
	if ok {
		// Expired but known: wait briefly for the fresh answer (a healthy
		// database gives it in a millisecond), else answer with what was
		// known while the query goes on. A hung database so costs each
		// request staleWait, not lookupTimeout.
		timer := time.NewTimer(staleWait)
		defer timer.Stop()
		select {
		case r := <-c.flights.DoChan(fmt.Sprint(key), load):
			res := r.Val.(loaded[V])
			if res.err == nil || errors.Is(res.err, store.ErrNotFound) {
				return res.v, res.err
			}
			return e.result()
		case <-timer.C:
			return e.result()
		}
	}
	// Concurrent misses for one key wait for the first one's query.
	r, _, _ := c.flights.Do(fmt.Sprint(key), load)
	res := r.(loaded[V])
	if res.err != nil && !errors.Is(res.err, store.ErrNotFound) {
		return res.v, fmt.Errorf("%w: %w", apperr.ErrUnavailable, res.err)
	}
	return res.v, res.err
}

type loaded[V any] struct {
	v   V
	err error
}

func (e ttlEntry[V]) result() (V, error) {
	if e.missing {
		var zero V
		return zero, store.ErrNotFound
	}
	return e.val, nil
}

func (c *ttlCache[K, V]) put(key K, e ttlEntry[V]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.missing {
		delete(c.entries, key)
		if len(c.missing) >= maxCacheEntries {
			c.missing = map[K]ttlEntry[V]{}
		}
		c.missing[key] = e
		return
	}
	delete(c.missing, key)
	if len(c.entries) >= maxCacheEntries {
		// Only keys the database knows get here, so this takes more real
		// credentials than anyone has; drop the stale ones first.
		for k, old := range c.entries {
			if time.Since(old.at) >= c.ttl {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCacheEntries {
			c.entries = map[K]ttlEntry[V]{}
		}
	}
	c.entries[key] = e
}

func (c *ttlCache[K, V]) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[K]ttlEntry[V]{}
	c.missing = map[K]ttlEntry[V]{}
}
