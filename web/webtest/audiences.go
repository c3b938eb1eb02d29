package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/internal/timers"
)

// Audiences is the real server with profiles, audiences and timers running
// in the background as `inlet serve` runs them, one admin, the default
// workspace's shared secret set, and a read and a write API token.
type Audiences struct {
	T           testing.TB
	St          *store.Store
	URL         string
	Secret      string
	Read, Write string
	WS          store.Workspace
}

// StartAudiences starts it over st.
func StartAudiences(t testing.TB, st *store.Store) *Audiences {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	supp := profiles.NewSuppressions(st)
	eng := audiences.NewEngine(st, audiences.Options{Poll: 50 * time.Millisecond, Logger: Logger(t)})
	f := profiles.NewFollower(st, profiles.Options{Suppressions: supp, Poll: 50 * time.Millisecond, Applied: eng.Notify, Handoff: eng, Logger: Logger(t)})
	tw := timers.New(st, timers.Options{Logger: Logger(t)})
	tw.Register(audiences.TimerKind, eng.FireTimers)
	f.Start(ctx)
	eng.Start(ctx)
	tw.Start(ctx)
	t.Cleanup(func() {
		cancel()
		c, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = tw.Close(c)
		_ = eng.Close(c)
		_ = f.Close(c)
	})
	deps := Deps(t, Config(t, map[string]string{"BASE_URL": "http://inlet.test", "COOKIE_SECURE": "false"}), st, Logger(t))
	deps.Suppressions, deps.Audiences = supp, eng
	if _, err := deps.Auth.CreateAdmin(ctx, AdminEmail, AdminPassword); err != nil {
		t.Fatal(err)
	}
	srv, _ := Open(t, deps, &profiles.Gate{Inner: st, Suppressions: supp, AfterCommit: f.Notify}, ingest.Options{})
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &Audiences{T: t, St: st, URL: "http://" + srv.Addr(), Secret: "audience-secret", WS: ws}
	if err := st.SetSecret(ctx, ws.ID, a.Secret, "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	srv.InvalidateWorkspace()
	if _, a.Read, err = st.CreateAPIToken(ctx, ws.ID, "reader", store.ScopeRead); err != nil {
		t.Fatal(err)
	}
	if _, a.Write, err = st.CreateAPIToken(ctx, ws.ID, "writer", store.ScopeWrite); err != nil {
		t.Fatal(err)
	}
	return a
}

// Hook sends events through the signed webhook and requires a 200.
func (a *Audiences) Hook(events ...map[string]any) {
	a.T.Helper()
	body, _ := json.Marshal(events)
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/public/webhooks/segment", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign([]byte(a.Secret), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.T.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		a.T.Fatalf("webhook: %d %s", res.StatusCode, b)
	}
}

// API calls /api/v1 with a token and decodes the JSON answer.
func (a *Audiences) API(method, path, token, body string) (int, map[string]any) {
	a.T.Helper()
	req, _ := http.NewRequest(method, a.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.T.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.T.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, out
}

// Until polls until cond holds (the engine works on its own), failing the
// test after d (stretched by INLET_TEST_PATIENCE).
func (a *Audiences) Until(what string, d time.Duration, cond func() bool) {
	a.T.Helper()
	testutil.WaitWithin(a.T, d, what, cond)
}
