package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/credcache"
	"github.com/inlet-dev/inlet/internal/store"
)

// maxAPITokenLen bounds what is hashed: Inlet's tokens are 32 characters.
const maxAPITokenLen = 200

// APITokens authenticates the read and erase API's Bearer tokens through
// the credential cache (no query per request) and records their last use.
type APITokens struct {
	Cache *credcache.APITokens
	Now   func() time.Time // nil: time.Now
}

// ErrNoBearer is a request without an Authorization: Bearer header; the
// API answers it with WWW-Authenticate.
var ErrNoBearer = apperr.New(apperr.Unauthorized, "missing API token: send Authorization: Bearer <token>")

// Authenticate checks the Authorization header for a token of scope
// (store.ScopeRead or store.ScopeWrite) and returns the token. Refusals are
// *apperr.Error: Unauthorized for a missing, unknown, revoked or expired
// token, Forbidden for a read token on a write route; a database that cannot
// be asked (and nothing cached) is apperr.ErrUnavailable.
func (a *APITokens) Authenticate(ctx context.Context, authorization, scope string) (store.APIToken, error) {
	const prefix = "bearer "
	if len(authorization) < len(prefix) || !strings.EqualFold(authorization[:len(prefix)], prefix) {
		return store.APIToken{}, ErrNoBearer
	}
	raw := strings.TrimSpace(authorization[len(prefix):])
	if raw == "" || len(raw) > maxAPITokenLen {
		return store.APIToken{}, apperr.New(apperr.Unauthorized, "unknown API token")
	}
	// The cache is keyed by the token's SHA-256, so what is compared is a
	// hash the caller cannot steer, never the secret itself.
	t, err := a.Cache.Lookup(ctx, raw)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.APIToken{}, apperr.New(apperr.Unauthorized, "unknown API token")
	case err != nil:
		return store.APIToken{}, fmt.Errorf("API token lookup: %w", err)
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	switch {
	case t.RevokedAt != nil:
		return store.APIToken{}, apperr.New(apperr.Unauthorized, "this API token was revoked")
	case t.Expired(now):
		return store.APIToken{}, apperr.Errorf(apperr.Unauthorized, "this API token expired at %s", t.ExpiresAt.UTC().Format(time.RFC3339))
	case scope == store.ScopeWrite && t.Scope != store.ScopeWrite:
		return store.APIToken{}, apperr.New(apperr.Forbidden, "this API token is read-only; this route needs a write token")
	}
	a.Cache.Used(t.ID, now)
	return t, nil
}
