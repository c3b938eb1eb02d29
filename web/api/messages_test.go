package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

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

		// The round trip through /u/{token} is proven beside its surface
		// (web/unsubscribe); here a choice is recorded for the erasure below.
		if !strings.HasPrefix(link, "/u/") {
			t.Errorf("unsubscribe link %q", link)
		}
		if _, err := st.SetSubscription(context.Background(), e.ws.ID, "u1", "news", false, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		code, out = e.send(t, "GET", "/api/v1/users/u1", e.read, "")
		if s, _ := out["subscriptions"].(map[string]any)["news"].(map[string]any); code != 200 || s["subscribed"] != false || s["since"] == "" {
			t.Errorf("subscriptions: %d %v", code, out["subscriptions"])
		}

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
