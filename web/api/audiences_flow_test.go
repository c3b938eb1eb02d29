package api_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/web/webtest"
)

// The audience API end to end through the real server: refusals with the
// fault's path, a build, a user entering within a second of the webhook's
// answer, members, the user's audiences, explain, history, preview, the
// transition in the events, delete.
func TestAudiencesAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		a := webtest.StartAudiences(t, st)
		now := time.Now().UTC()
		a.Hook(map[string]any{"type": "identify", "userId": "ann", "anonymousId": "anon-a", "messageId": "i1",
			"timestamp": now.Format(time.RFC3339Nano), "traits": map[string]any{"plan": "pro"}})

		// Bad definitions: 422 naming the path, nothing stored.
		for body, path := range map[string]string{
			`{"key":"x","name":"X","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},{"performed":{"event":"E","within":"9y"}}]}}`: "condition.all[1].performed.within",
			`{"key":"x","name":"X","condition":{"performed":{"event":"Audience Entered"}}}`:                                                   "condition.performed.event",
			`{"key":"x","name":"X","condition":{"audience":"missing"}}`:                                                                       "condition.audience",
			`{"key":"X!","name":"X","condition":{"trait":"a","op":"exists"}}`:                                                                 "key",
		} {
			code, out := a.API("POST", "/api/v1/audiences", a.Write, body)
			if msg, _ := out["error"].(string); code != 422 || !strings.HasPrefix(msg, path+":") {
				t.Fatalf("POST %s: %d %v, want 422 naming %s", body, code, out, path)
			}
		}
		if code, _ := a.API("POST", "/api/v1/audiences", a.Read, `{}`); code != 403 {
			t.Fatalf("a read token created an audience: %d", code)
		}
		if code, out := a.API("POST", "/api/v1/audiences", a.Write, `{"key":"x","name":"`+strings.Repeat("x", 70000)+`"}`); code != 413 {
			t.Fatalf("a huge definition: %d %v", code, out)
		}

		def := `{"key":"pro_orders","name":"Pro with an order","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},
			{"performed":{"event":"Order Completed","within":"1h"}}]}}`
		code, out := a.API("POST", "/api/v1/audiences", a.Write, def)
		if code != 201 || out["version"] != float64(1) || out["key"] != "pro_orders" {
			t.Fatalf("create: %d %v", code, out)
		}
		if code, _ := a.API("POST", "/api/v1/audiences", a.Write, def); code != 409 {
			t.Fatalf("second create: %d", code)
		}
		a.Until("the first build", 20*time.Second, func() bool {
			_, out := a.API("GET", "/api/v1/audiences/pro_orders", a.Read, "")
			return out["status"] == "ready"
		})
		// ann enters with her first order, within a second of the 200.
		a.Hook(map[string]any{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o1",
			"timestamp": now.Format(time.RFC3339Nano)})
		acked := time.Now()
		a.Until("ann to enter", 10*time.Second, func() bool {
			_, out := a.API("GET", "/api/v1/audiences/pro_orders/members", a.Read, "")
			m, _ := out["members"].([]any)
			return len(m) == 1
		})
		t.Logf("entered %v after the webhook's answer", time.Since(acked))
		_, out = a.API("GET", "/api/v1/audiences/pro_orders/members?limit=1", a.Read, "")
		m := out["members"].([]any)[0].(map[string]any)
		if m["userId"] != "ann" || fmt.Sprint(m["anonymousIds"]) != "[anon-a]" || m["enteredAt"] == nil {
			t.Fatalf("member %v", m)
		}
		_, out = a.API("GET", "/api/v1/audiences", a.Read, "")
		if l := out["audiences"].([]any); len(l) != 1 || l[0].(map[string]any)["memberCount"] != float64(1) {
			t.Fatalf("list %v", out)
		}
		_, out = a.API("GET", "/api/v1/users/ann", a.Read, "")
		if auds, _ := out["audiences"].([]any); len(auds) != 1 || auds[0].(map[string]any)["key"] != "pro_orders" {
			t.Fatalf("user's audiences %v", out["audiences"])
		}
		code, out = a.API("GET", "/api/v1/audiences/pro_orders/explain?userId=ann", a.Read, "")
		tree, _ := out["tree"].(map[string]any)
		kids, _ := tree["children"].([]any)
		if code != 200 || out["result"] != true || tree["type"] != "all" || len(kids) != 2 {
			t.Fatalf("explain %d %v", code, out)
		}
		perf := kids[1].(map[string]any)
		if perf["type"] != "performed" || perf["seen"] != float64(1) || perf["nextChangeAt"] == nil {
			t.Fatalf("performed node %v", perf)
		}
		_, out = a.API("GET", "/api/v1/audiences/pro_orders/history?userId=ann", a.Read, "")
		if h, _ := out["history"].([]any); len(h) != 1 || h[0].(map[string]any)["cause"] != "o1" {
			t.Fatalf("history %v", out)
		}
		code, out = a.API("POST", "/api/v1/audiences/preview", a.Write, `{"key":"p","name":"P","condition":{"trait":"plan","op":"eq","value":"pro"}}`)
		if code != 200 || out["count"] != float64(1) {
			t.Fatalf("preview %d %v", code, out)
		}
		// Someone trying conditions has not named the audience yet.
		code, out = a.API("POST", "/api/v1/audiences/preview", a.Write, `{"condition":{"trait":"plan","op":"eq","value":"pro"}}`)
		if code != 200 || out["count"] != float64(1) {
			t.Fatalf("preview without key and name %d %v", code, out)
		}
		if code, out := a.API("POST", "/api/v1/audiences/preview", a.Write, `{"key":"Bad Key","condition":{"trait":"plan","op":"eq","value":"pro"}}`); code != 422 || !strings.HasPrefix(fmt.Sprint(out["error"]), "key:") {
			t.Fatalf("preview with a bad key %d %v", code, out)
		}
		// The transition is an event of the workspace's own stream.
		_, out = a.API("GET", "/api/v1/events?user=ann&limit=10", a.Read, "")
		if !strings.Contains(fmt.Sprint(out), "Audience Entered") {
			t.Fatalf("events of ann lack the transition: %v", out)
		}
		// A trait change makes her leave; history names the identify that did it.
		a.Hook(map[string]any{"type": "identify", "userId": "ann", "messageId": "downgrade",
			"timestamp": time.Now().UTC().Format(time.RFC3339Nano), "traits": map[string]any{"plan": "free"}})
		a.Until("ann to leave", 10*time.Second, func() bool {
			_, out := a.API("GET", "/api/v1/audiences/pro_orders/members", a.Read, "")
			m, _ := out["members"].([]any)
			return len(m) == 0
		})
		_, out = a.API("GET", "/api/v1/audiences/pro_orders/history?userId=ann", a.Read, "")
		if h, _ := out["history"].([]any); len(h) != 2 || h[0].(map[string]any)["transition"] != "exited" || h[0].(map[string]any)["cause"] != "downgrade" {
			t.Fatalf("history after the downgrade %v", out)
		}
		if code, _ := a.API("DELETE", "/api/v1/audiences/pro_orders", a.Write, ""); code != 204 {
			t.Fatalf("delete %d", code)
		}
		if code, _ := a.API("GET", "/api/v1/audiences/pro_orders", a.Read, ""); code != 404 {
			t.Fatalf("after delete %d", code)
		}
	})
}

// Keys and cursors that are not text PostgreSQL can hold (invalid UTF-8,
// NUL) are refused with a 400, never looked up (a 500 before).
func TestAudienceRoutesRefuseNonText(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		a := webtest.StartAudiences(t, st)
		if code, out := a.API("POST", "/api/v1/audiences", a.Write, `{"key":"pro","name":"Pro","condition":{"trait":"plan","op":"eq","value":"pro"}}`); code != 201 {
			t.Fatalf("create: %d %v", code, out)
		}
		cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
		for _, c := range []struct{ method, path, token, body string }{
			{"GET", "/api/v1/audiences/%FF", a.Read, ""},
			{"GET", "/api/v1/audiences/a%00b/members", a.Read, ""},
			{"GET", "/api/v1/audiences/%FF/history", a.Read, ""},
			{"GET", "/api/v1/audiences/%FF/explain?userId=ann", a.Read, ""},
			{"PUT", "/api/v1/audiences/%FF", a.Write, `{"key":"pro","name":"Pro","condition":{"trait":"plan","op":"exists"}}`},
			{"DELETE", "/api/v1/audiences/%C3", a.Write, ""},
			{"GET", "/api/v1/audiences/pro/members?cursor=" + cursor("\xff\xfe"), a.Read, ""},
			{"GET", "/api/v1/audiences/pro/members?cursor=" + cursor("u:a\x00b"), a.Read, ""},
			{"GET", "/api/v1/users?cursor=" + cursor("123|\xff"), a.Read, ""},
			{"GET", "/api/v1/users?cursor=" + cursor("123|a\x00"), a.Read, ""},
		} {
			if code, out := a.API(c.method, c.path, c.token, c.body); code != 400 {
				t.Errorf("%s %s: %d %v, want 400", c.method, c.path, code, out)
			}
		}
	})
}
