package credcache

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// APITokens looks API tokens up by their hash through a ttlCache, as
// WriteKeys does for write keys: no query per API request; a token revoked
// by another instance or the CLI stops within the ttl, one revoked here at
// once (Invalidate). Expiry needs no invalidation: it is checked against the
// clock on every request (internal/auth).
type APITokens struct {
	byHash *ttlCache[string, store.APIToken]
	used   *usedThrottle
}

// NewAPITokens caches db's API tokens for ttl.
func NewAPITokens(db *store.Store, ttl time.Duration, log *slog.Logger) *APITokens {
	return &APITokens{byHash: newTTLCache(ttl, db.APITokenByHash), used: newUsedThrottle("API token", db.TouchAPIToken, log)}
}

// Invalidate forgets every token, after one was revoked.
func (c *APITokens) Invalidate() { c.byHash.invalidate() }

// Lookup returns the token whose text is token (revoked or not),
// store.ErrNotFound when there is none, or an error marked
// apperr.ErrUnavailable when the database cannot be asked.
func (c *APITokens) Lookup(ctx context.Context, token string) (store.APIToken, error) {
	return c.byHash.get(ctx, store.HashWriteKey(token))
}

// Used notes a successful request with token id (last_used_at, throttled).
func (c *APITokens) Used(id uuid.UUID, at time.Time) { c.used.mark(id, at) }
