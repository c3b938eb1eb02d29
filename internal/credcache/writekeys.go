package credcache

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// WriteKeys looks write keys up by their hash through a ttlCache (a key
// revoked by another instance or the CLI stops within seconds; this
// instance's own revokes call invalidate and stop the key at once), and
// throttles the last_used_at writes.
type WriteKeys struct {
	byKey *ttlCache[string, store.WriteKey] // by store.HashWriteKey
	used  *usedThrottle
}

// NewWriteKeys caches db's write keys for ttl; log takes the failures of
// the background last_used_at writes.
func NewWriteKeys(db *store.Store, ttl time.Duration, log *slog.Logger) *WriteKeys {
	return &WriteKeys{byKey: newTTLCache(ttl, db.WriteKeyByHash), used: newUsedThrottle("write key", db.TouchWriteKey, log)}
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
func (c *WriteKeys) Used(id uuid.UUID, at time.Time) { c.used.mark(id, at) }
