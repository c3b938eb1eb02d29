package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

// TestDashboardDatabaseDown: with the database gone, every page answers
// the same 503 error page, and the JSON route next to them answers JSON.
func TestDashboardDatabaseDown(t *testing.T) {
	t.Parallel()
	st, proxy := webtest.OpenProxiedStore(t)
	d := webtest.StartDashboard(t, webtest.DashOptions{St: st})
	d.C.MustSignIn()
	if p := d.C.Get("/dashboard/events"); p.Status != http.StatusOK {
		t.Fatalf("events before the outage: %d", p.Status)
	}

	proxy.Cut()
	var first webtest.Page
	for i, path := range []string{"/dashboard/settings", "/dashboard/events", "/dashboard/events?type=track"} {
		p := d.C.Get(path)
		if p.Status != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" {
			t.Fatalf("%s with the database down: %d (Retry-After %q), want 503 with Retry-After", path, p.Status, p.Header.Get("Retry-After"))
		}
		if p.Doc.Find("#error-page").Length() != 1 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: not the HTML error page: %s", path, p.Body)
		}
		if i == 0 {
			first = p
			continue
		}
		if got, want := p.Text("#error-page"), first.Text("#error-page"); got != want {
			t.Errorf("%s says %q, /dashboard/settings says %q: the same failure must read the same", path, got, want)
		}
	}

	p := d.C.Get("/dashboard/status.json")
	var e struct {
		Error string `json:"error"`
	}
	if p.Status != http.StatusServiceUnavailable || json.Unmarshal(p.Body, &e) != nil || e.Error == "" {
		t.Fatalf("status.json with the database down: %d %q, want 503 with a JSON error", p.Status, p.Body)
	}

	proxy.Restore()
	testutil.WaitWithin(t, 10*time.Second, "the settings page to come back with the database", func() bool {
		return d.C.Get("/dashboard/settings").Status == http.StatusOK
	})
}

// TestErrorFormats: routes for people answer errors with an HTML page,
// every other route with {"error": "..."}.
func TestErrorFormats(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	for _, tc := range []struct {
		path   string
		status int
		html   bool
	}{
		{"/dashboard/no-such-page", http.StatusNotFound, true},
		{"/dashboard/status.json?ws=0b3c4f5e-6a53-4c3c-9d43-0b6a5a3c1e11", http.StatusNotFound, false},
		{"/no-such-path", http.StatusNotFound, false},
		{"/api/public/webhooks/segment", http.StatusMethodNotAllowed, false},
		{"/v1/track", http.StatusNotFound, false}, // POST and OPTIONS only
	} {
		p := d.C.Get(tc.path)
		isHTML := strings.HasPrefix(p.Header.Get("Content-Type"), "text/html")
		if p.Status != tc.status || isHTML != tc.html {
			t.Errorf("GET %s: %d %s, want %d (HTML %v)", tc.path, p.Status, p.Header.Get("Content-Type"), tc.status, tc.html)
			continue
		}
		if tc.html {
			if p.Doc.Find("#error-page").Length() != 1 {
				t.Errorf("GET %s: not the error page: %s", tc.path, p.Body)
			}
			continue
		}
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(p.Body, &e); err != nil || e.Error == "" {
			t.Errorf("GET %s: not {\"error\": ...}: %s", tc.path, p.Body)
		}
	}
}
