package api_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// API tokens may carry an expiry: refused (401, saying so) from then on.
func TestTokenExpiry(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := setup(t, st, sample)
		ctx := context.Background()
		past := time.Now().Add(-time.Hour)
		if _, _, err := st.CreateAPITokenWith(ctx, e.ws.ID, store.NewAPIToken{Name: "old", Scope: store.ScopeRead, ExpiresAt: &past}); err == nil {
			t.Error("a token that expired already was created")
		}
		soon := time.Now().Add(1500 * time.Millisecond)
		tok, plain, err := st.CreateAPITokenWith(ctx, e.ws.ID, store.NewAPIToken{Name: "soon", Scope: store.ScopeRead, ExpiresAt: &soon})
		if err != nil {
			t.Fatal(err)
		}
		if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(soon.UTC().Truncate(time.Microsecond)) {
			t.Errorf("expiry: %v", tok.ExpiresAt)
		}
		if code, _, body := e.do(t, "GET", "/api/v1/users/u1", plain); code != 200 {
			t.Fatalf("before its expiry: %d %s", code, body)
		}
		testutil.WaitWithin(t, 10*time.Second, "the expired token to be refused", func() bool {
			code, _, body := e.do(t, "GET", "/api/v1/users/u1", plain)
			return code == 401 && strings.Contains(string(body), "expired")
		})
		toks, err := st.APITokens(ctx, e.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range toks {
			if x.ID == tok.ID && (x.ExpiresAt == nil || !x.Expired(time.Now()) || x.Active(time.Now())) {
				t.Errorf("listed: %+v", x)
			}
		}
	})
}

// Erasure by anonymous id: the profile the id belongs to goes.
func TestEraseByAnonymousID(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := setup(t, st, sample)
		if code, _, body := e.do(t, "DELETE", "/api/v1/anonymous/a9", e.read); code != 403 {
			t.Errorf("read token: %d %s", code, body)
		}
		code, _, body := e.do(t, "DELETE", "/api/v1/anonymous/a9", e.write)
		if code != 200 || !strings.Contains(string(body), `"eventsDeleted":1`) {
			t.Fatalf("erase a9: %d %s", code, body)
		}
		if _, _, body := e.do(t, "GET", "/api/v1/users?anonymousId=a9", e.read); !strings.Contains(string(body), `"users":[]`) {
			t.Errorf("a9 after erasure: %s", body)
		}
		if _, _, body := e.do(t, "GET", "/api/v1/events?user=a9", e.read); !strings.Contains(string(body), `"events":[]`) {
			t.Errorf("a9's events after erasure: %s", body)
		}
		if code, _, _ := e.do(t, "GET", "/api/v1/users/u1", e.read); code != 200 {
			t.Errorf("u1 after erasing a9: %d", code)
		}
		if code, _, body := e.do(t, "DELETE", "/api/v1/anonymous/a9?suppress=maybe", e.write); code != 400 {
			t.Errorf("bad suppress: %d %s", code, body)
		}
		// Its suppression is lifted by the same id.
		if code, _, body := e.do(t, "DELETE", "/api/v1/anonymous/a9/suppression", e.write); code != 200 || !strings.Contains(string(body), `"lifted":`) {
			t.Errorf("lift a9: %d %s", code, body)
		}
		if code, _, body := e.do(t, "DELETE", "/api/v1/anonymous/a9/suppression", e.write); code != 404 {
			t.Errorf("lift a9 again: %d %s", code, body)
		}
	})
}

// A database that cannot answer is a 503 with Retry-After in the one error
// shape, on every route (token lookups included).
func TestDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := setup(t, st, sample)
		st.Close()
		for _, r := range []struct{ method, path, token string }{
			{"GET", "/api/v1/users/u1", e.read},
			{"GET", "/api/v1/users", e.read},
			{"GET", "/api/v1/events", e.read},
			{"GET", "/api/v1/events/export", e.read},
			{"DELETE", "/api/v1/users/u1", e.write},
			{"DELETE", "/api/v1/anonymous/a1", e.write},
			{"DELETE", "/api/v1/suppressions/u1", e.write},
			{"DELETE", "/api/v1/anonymous/a1/suppression", e.write},
		} {
			code, hdr, body := e.do(t, r.method, r.path, r.token)
			if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(string(body), `"error"`) {
				t.Errorf("%s %s with the database closed: %d %v %s", r.method, r.path, code, hdr.Get("Retry-After"), body)
			}
			// Logged once by the one error mapping, with the request id.
			id, n := hdr.Get("X-Request-Id"), 0
			for _, l := range e.logs.lines() {
				if l["request_id"] == id && l["msg"] == "unavailable" && l["status"] == float64(503) {
					n++
				}
			}
			if id == "" || n != 1 {
				t.Errorf("%s %s: %d 503 log lines with request id %q, want 1", r.method, r.path, n, id)
			}
		}
	})
}
