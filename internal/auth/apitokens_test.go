package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/credcache"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestAPITokensAuthenticate(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		ws, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		exp := now.Add(time.Hour)
		_, read, err := st.CreateAPITokenWith(ctx, ws.ID, store.NewAPIToken{Name: "r", Scope: store.ScopeRead, ExpiresAt: &exp})
		if err != nil {
			t.Fatal(err)
		}
		wt, write, err := st.CreateAPIToken(ctx, ws.ID, "w", store.ScopeWrite)
		if err != nil {
			t.Fatal(err)
		}
		cache := credcache.NewAPITokens(st, time.Hour, nil)
		a := &auth.APITokens{Cache: cache, Now: func() time.Time { return now }}
		for _, c := range []struct {
			name, header, scope string
			code                apperr.Code
		}{
			{"read token, read route", "Bearer " + read, store.ScopeRead, ""},
			{"scheme in any case", "bEaReR " + read, store.ScopeRead, ""},
			{"write token, write route", "Bearer " + write, store.ScopeWrite, ""},
			{"read token, write route", "Bearer " + read, store.ScopeWrite, apperr.Forbidden},
			{"no header", "", store.ScopeRead, apperr.Unauthorized},
			{"basic auth", "Basic " + read, store.ScopeRead, apperr.Unauthorized},
			{"unknown", "Bearer inlet_nope", store.ScopeRead, apperr.Unauthorized},
			{"too long", "Bearer " + string(make([]byte, 300)), store.ScopeRead, apperr.Unauthorized},
		} {
			_, err := a.Authenticate(ctx, c.header, c.scope)
			if apperr.CodeOf(err) != c.code || (c.code == "" && err != nil) {
				t.Errorf("%s: %v", c.name, err)
			}
		}
		if _, err := a.Authenticate(ctx, "", store.ScopeRead); !errors.Is(err, auth.ErrNoBearer) {
			t.Errorf("no header: %v, want ErrNoBearer (WWW-Authenticate)", err)
		}
		// An hour later the read token has expired: refused, saying so.
		now = now.Add(time.Hour)
		if _, err := a.Authenticate(ctx, "Bearer "+read, store.ScopeRead); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Errorf("expired: %v", err)
		}
		// Revoked here: Invalidate makes it refused at once.
		if err := st.RevokeAPIToken(ctx, ws.ID, wt.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Authenticate(ctx, "Bearer "+write, store.ScopeRead); err != nil {
			t.Fatalf("cached for an hour: %v", err)
		}
		cache.Invalidate()
		if _, err := a.Authenticate(ctx, "Bearer "+write, store.ScopeRead); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Errorf("revoked: %v", err)
		}
	})
}
