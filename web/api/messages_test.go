package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// send is do with a JSON body; the answer is validated against openapi.json.
func (e env) send(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	req.Body = io.NopCloser(strings.NewReader(body))
	validate(t, req, res, b)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, b)
		}
	}
	return res.StatusCode, out
}

func TestTemplatesAndGroups(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st, sample)

		// A syntax error is refused at save with its part and line; nothing is stored.
		code, out := e.send(t, "POST", "/api/v1/templates", e.write, `{"key":"welcome","subject":"Hi","html":"<p>a</p>\n{% if user %}\n<p>b</p>"}`)
		if code != 422 || !strings.Contains(out["error"].(string), "html: Liquid syntax error on line 2") || out["line"] != 2.0 {
			t.Fatalf("syntax error: %d %v", code, out)
		}
		if code, _ := e.send(t, "GET", "/api/v1/templates/welcome", e.read, ""); code != 404 {
			t.Errorf("refused template stored: %d", code)
		}
		for _, bad := range []string{`{"key":"a b","subject":"x","html":"x"}`, `{"key":"k","subject":"","html":"x"}`,
			`{"key":"k","subject":"x"}`} {
			if code, out := e.send(t, "POST", "/api/v1/templates", e.write, bad); code != 422 {
				t.Errorf("%s: %d %v, want 422", bad, code, out)
			}
		}
		if code, _ := e.send(t, "POST", "/api/v1/templates", e.write, `{"key":"k","subject":"x","html":"x","extra":1}`); code != 400 {
			t.Errorf("unknown field: %d, want 400", code)
		}
		if code, _ := e.send(t, "POST", "/api/v1/templates", e.read, `{"key":"k","subject":"x","html":"x"}`); code != 403 {
			t.Errorf("read token creates: %d, want 403", code)
		}

		tpl := `{"key":"welcome","subject":"Welcome {{ user.traits.plan }}","html":"<p>Hi {{ user.traits.email }} {{ event.properties.x }}</p><a href=\"{{ unsubscribe_url }}\">unsubscribe</a>"}`
		if code, out := e.send(t, "POST", "/api/v1/templates", e.write, tpl); code != 201 || out["key"] != "welcome" {
			t.Fatalf("create: %d %v", code, out)
		}
		if code, _ := e.send(t, "POST", "/api/v1/templates", e.write, tpl); code != 409 {
			t.Errorf("same key again: %d, want 409", code)
		}
		if code, out := e.send(t, "GET", "/api/v1/templates", e.read, ""); code != 200 || len(out["templates"].([]any)) != 1 {
			t.Errorf("list: %d %v", code, out)
		}
		if code, out := e.send(t, "PUT", "/api/v1/templates/welcome", e.write,
			`{"subject":"Welcome {{ user.traits.plan }}","html":"<p>Hi {{ user.traits.email }} <i>{{ event.properties.x }}</i></p><a href=\"{{ unsubscribe_url }}\">unsubscribe</a>"}`); code != 200 {
			t.Fatalf("update: %d %v", code, out)
		}

		// Groups.
		if code, out := e.send(t, "POST", "/api/v1/subscription-groups", e.write, `{"key":"news","name":"Newsletter"}`); code != 201 || out["optIn"] != false {
			t.Fatalf("group: %d %v", code, out)
		}
		if code, out := e.send(t, "PUT", "/api/v1/subscription-groups/news", e.write, `{"name":"The newsletter","optIn":false}`); code != 200 || out["name"] != "The newsletter" {
			t.Errorf("group update: %d %v", code, out)
		}
		if code, _ := e.send(t, "GET", "/api/v1/subscription-groups/nope", e.read, ""); code != 404 {
			t.Errorf("unknown group: %d", code)
		}

		// Render: escaped HTML, a text part derived from it, the unsubscribe link.
		code, out = e.send(t, "POST", "/api/v1/templates/welcome/render", e.read,
			`{"userId":"u1","group":"news","event":{"event":"Signed Up","properties":{"x":"<script>"}}}`)
		if code != 200 || out["subject"] != "Welcome pro" {
			t.Fatalf("render: %d %v", code, out)
		}
		html := out["html"].(string)
		if !strings.Contains(html, "Hi ann@example.com <i>&lt;script&gt;</i>") {
			t.Errorf("html %q: output must be escaped", html)
		}
		if !strings.Contains(out["text"].(string), "Hi ann@example.com <script>") {
			t.Errorf("text %q", out["text"])
		}
		i := strings.Index(html, "/u/")
		if i < 0 {
			t.Fatalf("no unsubscribe link in %q", html)
		}
		link := html[i : strings.Index(html[i:], `"`)+i]
		if code, _ := e.send(t, "POST", "/api/v1/templates/welcome/render", e.read, `{"userId":"nobody"}`); code != 404 {
			t.Errorf("unknown user: %d", code)
		}

		t.Run("unsubscribe round trip", func(t *testing.T) {
			post := func(path, body string) (int, string) {
				res, err := http.Post(e.url+path, "application/x-www-form-urlencoded", bytes.NewBufferString(body))
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(b)
			}
			subs := func() map[string]any {
				code, out := e.send(t, "GET", "/api/v1/users/u1", e.read, "")
				if code != 200 {
					t.Fatalf("user: %d", code)
				}
				return out["subscriptions"].(map[string]any)
			}
			// GET shows a button and changes nothing (mail scanners follow links).
			res, err := http.Get(e.url + link)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(page), `id="unsubscribe-button"`) || !strings.Contains(string(page), "The newsletter") {
				t.Fatalf("GET page: %d %.300s", res.StatusCode, page)
			}
			if len(subs()) != 0 {
				t.Fatal("GET unsubscribed")
			}
			// An altered token: 404, nothing changes. So does another user's id put in.
			tok := strings.TrimPrefix(link, "/u/")
			altered := tok[:len(tok)-3] + map[bool]string{true: "AAA", false: "BBB"}[!strings.HasSuffix(tok, "AAA")]
			if code, _ := post("/u/"+altered, "List-Unsubscribe=One-Click"); code != 404 {
				t.Errorf("altered token: %d, want 404", code)
			}
			if len(subs()) != 0 {
				t.Fatal("altered token unsubscribed")
			}
			// One click: 200 at once, no session, no CSRF.
			if code, body := post(link, "List-Unsubscribe=One-Click"); code != 200 {
				t.Fatalf("one-click: %d %s", code, body)
			}
			s := subs()["news"].(map[string]any)
			if s["subscribed"] != false || s["since"] == "" {
				t.Errorf("subscriptions after one-click: %v", s)
			}
			// Recorded as a track event of source messages.
			code, out := e.send(t, "GET", "/api/v1/events?user=u1&type=track&event="+url.QueryEscape("Unsubscribed"), e.read, "")
			if code != 200 {
				t.Fatalf("events: %d %v", code, out)
			}
			evs := out["events"].([]any)
			if len(evs) != 1 {
				t.Fatalf("Unsubscribed events: %v", evs)
			}
			ev := evs[0].(map[string]any)
			if ev["source"] != "messages" || !strings.Contains(mustJSON(ev), `"group":"news"`) {
				t.Errorf("event %v", ev)
			}
			// Twice: still 200, no second event.
			if code, _ := post(link, "List-Unsubscribe=One-Click"); code != 200 {
				t.Errorf("second one-click: %d", code)
			}
			// Resubscribe from the page.
			if code, body := post(link, "action=subscribe"); code != 200 || !strings.Contains(body, `id="subscribe-done"`) {
				t.Errorf("resubscribe: %d %.200s", code, body)
			}
			if s := subs()["news"].(map[string]any); s["subscribed"] != true {
				t.Errorf("after resubscribe: %v", s)
			}
			code, out = e.send(t, "GET", "/api/v1/events?user=u1&type=track", e.read, "")
			names := map[string]int{}
			for _, ev := range out["events"].([]any) {
				names[ev.(map[string]any)["event"].(string)]++
			}
			if code != 200 || names["Unsubscribed"] != 1 || names["Subscribed"] != 1 {
				t.Errorf("events by name: %v", names)
			}
		})

		// Erasing the user removes their subscription choices with them.
		if subs, _ := st.Subscriptions(context.Background(), e.ws.ID, "u1"); len(subs) != 1 {
			t.Fatalf("subscriptions before erasure: %v", subs)
		}
		if code, out := e.send(t, "DELETE", "/api/v1/users/u1", e.write, ""); code >= 300 {
			t.Fatalf("erase: %d %v", code, out)
		}
		if subs, err := st.Subscriptions(context.Background(), e.ws.ID, "u1"); err != nil || len(subs) != 0 {
			t.Errorf("subscriptions after erasure: %v %v", subs, err)
		}

		if code, _ := e.send(t, "DELETE", "/api/v1/templates/welcome", e.write, ""); code != 204 {
			t.Errorf("delete: %d", code)
		}
		if code, _ := e.send(t, "DELETE", "/api/v1/subscription-groups/news", e.write, ""); code != 204 {
			t.Errorf("delete group: %d", code)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
