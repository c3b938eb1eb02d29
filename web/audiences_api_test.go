package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/timers"
)

// audienceServer is the real server with profiles, audiences and timers
// running in the background as serve.go runs them.
type audienceServer struct {
	t           *testing.T
	url         string
	secret      string
	read, write string
	st          *store.Store
	ws          store.Workspace
}

func startAudienceServer(t *testing.T, st *store.Store) *audienceServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	supp := profiles.NewSuppressions(st)
	f := profiles.NewFollower(st, profiles.Options{Suppressions: supp, Poll: 50 * time.Millisecond})
	eng := audiences.NewEngine(st, audiences.Options{Poll: 50 * time.Millisecond})
	tw := timers.New(st, timers.Options{})
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
	deps := serverDeps(t, mustConfig(t, map[string]string{"BASE_URL": "http://inlet.test", "COOKIE_SECURE": "false"}), st, testLogger(t))
	deps.Suppressions, deps.Audiences = supp, eng
	if _, err := deps.Auth.CreateAdmin(ctx, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	gate := &profiles.Gate{Inner: st, Suppressions: supp, AfterCommit: func() { f.Notify(); eng.Notify() }}
	srv, _ := openTestServer(t, deps, gate, ingest.Options{})
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := &audienceServer{t: t, url: "http://" + srv.Addr(), secret: "audience-secret", st: st, ws: ws}
	if err := st.SetSecret(ctx, ws.ID, a.secret, "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	srv.InvalidateWorkspace()
	if _, a.read, err = st.CreateAPIToken(ctx, ws.ID, "reader", store.ScopeRead); err != nil {
		t.Fatal(err)
	}
	if _, a.write, err = st.CreateAPIToken(ctx, ws.ID, "writer", store.ScopeWrite); err != nil {
		t.Fatal(err)
	}
	return a
}

// hook sends events through the signed webhook and requires a 200.
func (a *audienceServer) hook(events ...map[string]any) {
	a.t.Helper()
	body, _ := json.Marshal(events)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/api/public/webhooks/segment", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign([]byte(a.secret), body))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		a.t.Fatalf("webhook: %d %s", res.StatusCode, b)
	}
}

// api calls /api/v1 and decodes the JSON answer.
func (a *audienceServer) api(method, path, token, body string) (int, map[string]any) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			a.t.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, raw)
		}
	}
	return res.StatusCode, out
}

// until polls an API answer until cond holds (the engine runs on its own).
func (a *audienceServer) until(what string, d time.Duration, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			a.t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAudiencesAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		a := startAudienceServer(t, st)
		now := time.Now().UTC()
		a.hook(map[string]any{"type": "identify", "userId": "ann", "anonymousId": "anon-a", "messageId": "i1",
			"timestamp": now.Format(time.RFC3339Nano), "traits": map[string]any{"plan": "pro"}})

		// Bad definitions: 422 naming the path, nothing stored.
		for body, path := range map[string]string{
			`{"key":"x","name":"X","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},{"performed":{"event":"E","within":"9y"}}]}}`: "condition.all[1].performed.within",
			`{"key":"x","name":"X","condition":{"performed":{"event":"Audience Entered"}}}`:                                                   "condition.performed.event",
			`{"key":"x","name":"X","condition":{"audience":"missing"}}`:                                                                       "condition.audience",
			`{"key":"X!","name":"X","condition":{"trait":"a","op":"exists"}}`:                                                                 "key",
		} {
			code, out := a.api("POST", "/api/v1/audiences", a.write, body)
			if msg, _ := out["error"].(string); code != 422 || !strings.HasPrefix(msg, path+":") {
				t.Fatalf("POST %s: %d %v, want 422 naming %s", body, code, out, path)
			}
		}
		if code, _ := a.api("POST", "/api/v1/audiences", a.read, `{}`); code != 403 {
			t.Fatalf("a read token created an audience: %d", code)
		}
		if code, out := a.api("POST", "/api/v1/audiences", a.write, `{"key":"x","name":"`+strings.Repeat("x", 70000)+`"}`); code != 413 {
			t.Fatalf("a huge definition: %d %v", code, out)
		}

		def := `{"key":"pro_orders","name":"Pro with an order","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},
			{"performed":{"event":"Order Completed","within":"1h"}}]}}`
		code, out := a.api("POST", "/api/v1/audiences", a.write, def)
		if code != 201 || out["version"] != float64(1) || out["key"] != "pro_orders" {
			t.Fatalf("create: %d %v", code, out)
		}
		if code, _ := a.api("POST", "/api/v1/audiences", a.write, def); code != 409 {
			t.Fatalf("second create: %d", code)
		}
		a.until("the first build", 20*time.Second, func() bool {
			_, out := a.api("GET", "/api/v1/audiences/pro_orders", a.read, "")
			return out["status"] == "ready"
		})
		// ann enters with her first order, within a second of the 200.
		a.hook(map[string]any{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o1",
			"timestamp": now.Format(time.RFC3339Nano)})
		acked := time.Now()
		a.until("ann to enter", 10*time.Second, func() bool {
			_, out := a.api("GET", "/api/v1/audiences/pro_orders/members", a.read, "")
			m, _ := out["members"].([]any)
			return len(m) == 1
		})
		t.Logf("entered %v after the webhook's answer", time.Since(acked))
		_, out = a.api("GET", "/api/v1/audiences/pro_orders/members?limit=1", a.read, "")
		m := out["members"].([]any)[0].(map[string]any)
		if m["userId"] != "ann" || fmt.Sprint(m["anonymousIds"]) != "[anon-a]" || m["enteredAt"] == nil {
			t.Fatalf("member %v", m)
		}
		_, out = a.api("GET", "/api/v1/audiences", a.read, "")
		if l := out["audiences"].([]any); len(l) != 1 || l[0].(map[string]any)["memberCount"] != float64(1) {
			t.Fatalf("list %v", out)
		}
		_, out = a.api("GET", "/api/v1/users/ann", a.read, "")
		if auds, _ := out["audiences"].([]any); len(auds) != 1 || auds[0].(map[string]any)["key"] != "pro_orders" {
			t.Fatalf("user's audiences %v", out["audiences"])
		}
		code, out = a.api("GET", "/api/v1/audiences/pro_orders/explain?userId=ann", a.read, "")
		tree, _ := out["tree"].(map[string]any)
		kids, _ := tree["children"].([]any)
		if code != 200 || out["result"] != true || tree["type"] != "all" || len(kids) != 2 {
			t.Fatalf("explain %d %v", code, out)
		}
		perf := kids[1].(map[string]any)
		if perf["type"] != "performed" || perf["seen"] != float64(1) || perf["nextChangeAt"] == nil {
			t.Fatalf("performed node %v", perf)
		}
		_, out = a.api("GET", "/api/v1/audiences/pro_orders/history?userId=ann", a.read, "")
		if h, _ := out["history"].([]any); len(h) != 1 || h[0].(map[string]any)["cause"] != "o1" {
			t.Fatalf("history %v", out)
		}
		code, out = a.api("POST", "/api/v1/audiences/preview", a.write, `{"key":"p","name":"P","condition":{"trait":"plan","op":"eq","value":"pro"}}`)
		if code != 200 || out["count"] != float64(1) {
			t.Fatalf("preview %d %v", code, out)
		}
		// The transition is an event of the workspace's own stream.
		_, out = a.api("GET", "/api/v1/events?userId=ann&limit=10", a.read, "")
		if !strings.Contains(fmt.Sprint(out), "Audience Entered") {
			t.Fatalf("events of ann lack the transition: %v", out)
		}
		if code, _ := a.api("DELETE", "/api/v1/audiences/pro_orders", a.write, ""); code != 204 {
			t.Fatalf("delete %d", code)
		}
		if code, _ := a.api("GET", "/api/v1/audiences/pro_orders", a.read, ""); code != 404 {
			t.Fatalf("after delete %d", code)
		}
	})
}
