package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// writeKeyCache keeps write-key lookups in memory so a busy app does not cost
// a query per call. Entries live for ttl, so a key revoked by another
// instance (or the CLI) stops within seconds; this instance's own revokes
// call invalidate and stop the key at once.
type writeKeyCache struct {
	db  *store.Store
	ttl time.Duration
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]cachedKey    // by store.HashWriteKey
	touched map[uuid.UUID]time.Time // when last_used_at was last written
}

type cachedKey struct {
	hash    string
	key     store.WriteKey
	missing bool
	at      time.Time
}

// touchEvery throttles last_used_at writes to one per key per minute: the
// dashboard shows it to the minute, and the hot path must not write per call.
const touchEvery = time.Minute

// maxCachedKeys bounds the memory a flood of made-up keys can take.
const maxCachedKeys = 10000

func newWriteKeyCache(db *store.Store, ttl time.Duration, log *slog.Logger) *writeKeyCache {
	return &writeKeyCache{db: db, ttl: ttl, log: log, entries: map[string]cachedKey{}, touched: map[uuid.UUID]time.Time{}}
}

func (c *writeKeyCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]cachedKey{}
}

// lookup returns the key whose text is key, store.ErrNotFound when no key
// has that text, or another error when the database cannot be asked (and
// nothing is cached to answer with).
func (c *writeKeyCache) lookup(ctx context.Context, key string) (store.WriteKey, error) {
	hash := store.HashWriteKey(key)
	c.mu.Lock()
	e, ok := c.entries[hash]
	c.mu.Unlock()
	if ok && time.Since(e.at) < c.ttl {
		return e.result(hash)
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	k, err := c.db.WriteKeyByHash(lctx, hash)
	switch {
	case err == nil:
		c.put(cachedKey{hash: hash, key: k, at: time.Now()})
	case errors.Is(err, store.ErrNotFound):
		// Remember unknown keys too, so a flood of them costs no queries.
		c.put(cachedKey{hash: hash, missing: true, at: time.Now()})
	case ok:
		// The database is down or slow: answer from what we knew, so the
		// request fails (503) in the ingester, or succeeds once it is back.
		return e.result(hash)
	}
	return k, err
}

// result re-checks the hash in constant time: the map lookup found the entry
// by the hash, and this keeps any comparison of key material timing-blind.
func (e cachedKey) result(hash string) (store.WriteKey, error) {
	if e.missing || subtle.ConstantTimeCompare([]byte(e.hash), []byte(hash)) != 1 {
		return store.WriteKey{}, store.ErrNotFound
	}
	return e.key, nil
}

func (c *writeKeyCache) put(e cachedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedKeys {
		c.entries = map[string]cachedKey{}
	}
	c.entries[e.hash] = e
}

// used notes a successful call with key id; at most once per touchEvery it
// writes last_used_at, in the background so the caller never waits on it.
func (c *writeKeyCache) used(id uuid.UUID, at time.Time) {
	c.mu.Lock()
	last, ok := c.touched[id]
	if ok && at.Sub(last) < touchEvery {
		c.mu.Unlock()
		return
	}
	if len(c.touched) >= maxCachedKeys {
		c.touched = map[uuid.UUID]time.Time{}
	}
	c.touched[id] = at
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := c.db.TouchWriteKey(ctx, id, at); err != nil {
			// Only the dashboard's "last used" is late; the next call retries.
			c.log.Debug("write key last-used update failed", "key_id", id, "err", err)
			c.mu.Lock()
			if c.touched[id].Equal(at) {
				delete(c.touched, id)
			}
			c.mu.Unlock()
		}
	}()
}
