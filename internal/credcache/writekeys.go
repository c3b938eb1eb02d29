package credcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// WriteKeys looks write keys up by their hash through a ttlCache (a key
// revoked by another instance or the CLI stops within seconds; this
// instance's own revokes call invalidate and stop the key at once), and
// throttles the last_used_at writes.
type WriteKeys struct {
	db    *store.Store
	log   *slog.Logger
	byKey *ttlCache[string, store.WriteKey] // by store.HashWriteKey

	mu      sync.Mutex
	touched map[uuid.UUID]time.Time // when last_used_at was last written
}

// touchEvery throttles last_used_at writes to one per key per minute: the
// dashboard shows it to the minute, and the hot path must not write per call.
const touchEvery = time.Minute

// NewWriteKeys caches db's write keys for ttl; log takes the failures of
// the background last_used_at writes.
func NewWriteKeys(db *store.Store, ttl time.Duration, log *slog.Logger) *WriteKeys {
	return &WriteKeys{db: db, log: log, byKey: newTTLCache(ttl, db.WriteKeyByHash), touched: map[uuid.UUID]time.Time{}}
}

// Invalidate forgets every key, after one was revoked.
func (c *WriteKeys) Invalidate() { c.byKey.invalidate() }

// Lookup returns the key whose text is key, store.ErrNotFound when no key
// has that text, or another error when the database cannot be asked (and
// nothing is cached to answer with). Only the key's hash is ever kept.
func (c *WriteKeys) Lookup(ctx context.Context, key string) (store.WriteKey, error) {
	return c.byKey.get(ctx, store.HashWriteKey(key))
}

// Used notes a successful call with key id; at most once per touchEvery it
// writes last_used_at, in the background so the caller never waits on it.
func (c *WriteKeys) Used(id uuid.UUID, at time.Time) {
	c.mu.Lock()
	last, ok := c.touched[id]
	if ok && at.Sub(last) < touchEvery {
		c.mu.Unlock()
		return
	}
	if len(c.touched) >= maxCacheEntries {
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
