package web_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// logBuffer collects log output written from many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines parses every JSON log line.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestLogsCarryRequestIDAndNeverTheSecret(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		// A secret that is easy to spot anywhere, whole or in part.
		const secret = "zz-SECRET-never-in-logs-8c1e4b7a"
		logs := &logBuffer{}
		o := webtest.StartOps(t, st, nil, logs)
		fx := webtest.Fixtures(t)["identify.json"]
		sig := webtest.Sign(secret, fx.Body)

		type sent struct {
			what     string
			id       string
			selfLogs string // the handler's own line ("webhook", "http_api") instead of an access line
		}
		var reqs []sent
		do := func(what string, req *http.Request, selfLogs string) *http.Response {
			t.Helper()
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			resp.Body.Close()
			id := resp.Header.Get("X-Request-Id")
			if id == "" {
				t.Fatalf("%s: no X-Request-Id in the answer", what)
			}
			reqs = append(reqs, sent{what, id, selfLogs})
			return resp
		}
		hook := func(sig string) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, o.URL+"/api/public/webhooks/segment", bytes.NewReader(fx.Body))
			req.Header.Set("Content-Type", "application/json")
			if sig != "" {
				req.Header.Set("X-Signature", sig)
			}
			return req
		}

		// Before any secret is saved: Segment is told to retry.
		if r := do("webhook before the secret is set", hook(sig), "webhook"); r.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("webhook without a secret: %d", r.StatusCode)
		}
		o.SetSecret(o.WS.ID, secret)
		if r := do("signed webhook", hook(sig), "webhook"); r.StatusCode != http.StatusOK {
			t.Fatalf("signed webhook: %d", r.StatusCode)
		}
		if r := do("wrongly signed webhook", hook(webtest.Sign("another-secret", fx.Body)), "webhook"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrongly signed webhook: %d", r.StatusCode)
		}
		// The secret where a careless log line might copy it: a query string,
		// a header, a form field.
		leaky, _ := http.NewRequest(http.MethodGet, o.URL+"/healthz?secret="+url.QueryEscape(secret), nil)
		leaky.Header.Set("Authorization", "Bearer "+secret)
		do("health check with the secret in its query", leaky, "")
		settings, _ := http.NewRequest(http.MethodGet, o.URL+"/dashboard/settings", nil)
		do("settings page without a session", settings, "")
		login, _ := http.NewRequest(http.MethodPost, o.URL+"/login",
			strings.NewReader(url.Values{"email": {"a@example.com"}, "password": {secret}}.Encode()))
		login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		do("sign-in with the secret as password", login, "")
		missing, _ := http.NewRequest(http.MethodGet, o.URL+"/no/such/page", nil)
		do("unknown path", missing, "")
		// The webhook path with a method it does not take: no handler ran,
		// so the access line is the only one.
		wrongMethod, _ := http.NewRequest(http.MethodGet, o.URL+"/api/public/webhooks/segment", nil)
		if r := do("GET on the webhook", wrongMethod, ""); r.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET on the webhook: %d, want 405", r.StatusCode)
		}
		// The Tracking API logs its own line too; its CORS preflight does not.
		track, _ := http.NewRequest(http.MethodPost, o.URL+"/v1/track", bytes.NewReader(fx.Body))
		track.SetBasicAuth(secret, "")
		do("Tracking API call with an unknown write key", track, "http_api")
		preflight, _ := http.NewRequest(http.MethodOptions, o.URL+"/v1/track", nil)
		preflight.Header.Set("Origin", "https://shop.example.com")
		preflight.Header.Set("Access-Control-Request-Method", "POST")
		do("Tracking API preflight", preflight, "")

		all := logs.String()
		for _, part := range []string{secret, secret[:12], secret[len(secret)-12:]} {
			if strings.Contains(all, part) {
				t.Fatalf("logs contain the shared secret (%q):\n%s", part, all)
			}
		}

		lines := logs.lines(t)
		for _, r := range reqs {
			var mine []map[string]any
			for _, l := range lines {
				if l["request_id"] == r.id {
					mine = append(mine, l)
				}
			}
			count := func(msg string) int {
				n := 0
				for _, l := range mine {
					if l["msg"] == msg {
						n++
					}
				}
				return n
			}
			if r.selfLogs != "" {
				if count(r.selfLogs) != 1 || count("http") != 0 {
					t.Errorf("%s: want exactly one %s line and no access line with its request id, got %v", r.what, r.selfLogs, mine)
				}
				continue
			}
			if count("http") != 1 {
				t.Errorf("%s: want exactly one access line with its request id, got %v", r.what, mine)
			}
		}
		for _, l := range lines {
			if (l["msg"] == "http" || l["msg"] == "webhook" || l["msg"] == "http_api") && l["request_id"] == "" {
				t.Errorf("request line without request_id: %v", l)
			}
			if l["msg"] == "http" {
				if p, _ := l["path"].(string); strings.Contains(p, "?") {
					t.Errorf("access line logs a query string: %v", l)
				}
			}
		}
	})
}

// Access lines name the route pattern, never the path: a person's id in a
// path (/api/v1/users/dave) must not outlive their erasure in the logs.
func TestAccessLogsCarryRoutesNotIDs(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	logs := &logBuffer{}
	o := webtest.StartOps(t, st, nil, logs)
	const id = "erased-person-5b2d9"
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/api/v1/users/" + id, "/api/v1/users/" + id + "/", "/dashboard/users/" + id,
		"/dashboard/anonymous/" + id, "/nowhere/" + id} {
		resp, err := client.Get(o.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	routes := 0
	for _, l := range logs.lines(t) {
		if l["msg"] == "http" && l["route"] == "/api/v1/users/:userId" {
			routes++
		}
	}
	if routes == 0 {
		t.Errorf("no access line names the route pattern: %s", logs.String())
	}
	if strings.Contains(logs.String(), id) {
		t.Errorf("an id from a path reached the logs: %s", logs.String())
	}
}
