package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/PuerkitoBio/goquery"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// Issue 13: what a real admin and Segment's own libraries meet in the first
// hour, checked through the real server.

// lockedBuffer collects a server's log lines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func rawPost(t *testing.T, u string, body []byte, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// Item 3: every /v1 refusal carries what Segment's libraries read (code and
// message; analytics-python raises KeyError and retries without them) plus
// our own error; analytics.js's metrics posts are answered and forgotten.
func TestTrackingAPIErrorsAreSegmentShaped(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	logs := &lockedBuffer{}
	deps := webtest.Deps(t, webtest.Config(t, nil), st, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	srv, _ := webtest.Open(t, deps, st, ingest.Options{})
	base := "http://" + srv.Addr()
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := st.CreateWriteKey(context.Background(), ws.ID, "app")
	if err != nil {
		t.Fatal(err)
	}
	basic := func(k string) map[string]string {
		r, _ := http.NewRequest(http.MethodPost, base, nil)
		r.SetBasicAuth(k, "")
		return map[string]string{"Authorization": r.Header.Get("Authorization"), "Content-Type": "application/json"}
	}
	type body struct {
		Success *bool  `json:"success"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	for _, c := range []struct {
		name, path string
		payload    string
		hdr        map[string]string
		status     int
		code       string
	}{
		{"wrong key", "/v1/track", `{"userId":"u","event":"E"}`, basic("not-a-key"), 401, "unauthorized"},
		{"no key", "/v1/track", `{"userId":"u","event":"E"}`, map[string]string{"Content-Type": "application/json"}, 401, "unauthorized"},
		{"bad JSON", "/v1/track", `{"userId":`, basic(key), 400, "invalid_request"},
		{"bad event", "/v1/batch", `{"batch":[{"type":"track"}]}`, basic(key), 400, "invalid_request"},
		{"no such path", "/v1/nope", `{}`, basic(key), 404, "not_found"},
	} {
		status, raw := rawPost(t, base+c.path, []byte(c.payload), c.hdr)
		var b body
		if err := json.Unmarshal(raw, &b); err != nil {
			t.Fatalf("%s: not JSON: %q", c.name, raw)
		}
		if status != c.status || b.Code != c.code || b.Message == "" || b.Error != b.Message || b.Success == nil || *b.Success {
			t.Errorf("%s: %d %s, want %d with code %q, message = error, success false", c.name, status, raw, c.status, c.code)
		}
	}

	// analytics.js's metrics: 2xx, nothing stored, no log line per call.
	before := strings.Count(logs.String(), "\n")
	for _, p := range []string{"/m", "/v1/m"} {
		for range 3 {
			status, raw := rawPost(t, base+p, []byte(`{"series":[{"type":"Counter","metric":"analytics_js.invoke","value":1}]}`),
				map[string]string{"Content-Type": "text/plain"})
			if status/100 != 2 {
				t.Fatalf("POST %s: %d %s", p, status, raw)
			}
		}
	}
	if n, err := st.CountEvents(context.Background(), ws.ID); err != nil || n != 0 {
		t.Fatalf("metrics posts stored %d events (%v)", n, err)
	}
	// Not logged is proven by what is: one more request that is logged, sent
	// after them; once its line is there, the metrics posts had their chance.
	if status, _ := rawPost(t, base+"/v1/nope", []byte(`{}`), basic(key)); status != http.StatusNotFound {
		t.Fatalf("marker request: %d", status)
	}
	testutil.Wait(t, "the marker request's log line", func() bool {
		// Access lines name the route, never the path: the marker's line is
		// the new line with its 404.
		lines := strings.Split(logs.String(), "\n")
		return len(lines) > before+1 && strings.Contains(strings.Join(lines[before:], "\n"), `"status":404`)
	})
	if lines := logs.String(); strings.Count(lines, "\n") != before+1 || strings.Contains(lines, `"/m"`) || strings.Contains(lines, `"/v1/m"`) {
		t.Fatalf("metrics posts were logged:\n%s", lines)
	}
}

// Item 2: on /v1 an event without a messageId is a new event each time, as
// at Segment; the webhook keeps deduplicating retried bodies.
func TestTrackingAPIGivesFreshMessageIDs(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	same := []byte(`{"userId":"curl-user","event":"Order Completed","properties":{"total":1}}`)
	webtest.MustTrackingOK(t, "first curl", a.Post("/v1/track", same, a.Auth()...))
	webtest.MustTrackingOK(t, "same curl again", a.Post("/v1/track", same, a.Auth()...))
	webtest.MustTrackingOK(t, "a batch of two identical events", a.Post("/v1/batch",
		[]byte(`{"batch":[{"type":"identify","userId":"twin"},{"type":"identify","userId":"twin"}]}`), a.Auth()...))
	if n := a.Count(); n != 4 {
		t.Fatalf("%d events stored, want 4", n)
	}
	page, err := a.St.ListEvents(context.Background(), store.EventFilter{WorkspaceID: a.WS.ID})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range page.Events {
		if seen[e.MessageID] || !strings.HasPrefix(e.MessageID, "inlet-") {
			t.Fatalf("message ids %v", page.Events)
		}
		seen[e.MessageID] = true
		// The stored JSON carries the assigned id too (exports, the API and
		// destinations read it there), as Segment's own events do.
		var raw struct {
			MessageID string `json:"messageId"`
		}
		if err := json.Unmarshal(e.Raw, &raw); err != nil || raw.MessageID != e.MessageID {
			t.Fatalf("stored raw %s carries messageId %q, want %q (%v)", e.Raw, raw.MessageID, e.MessageID, err)
		}
	}
	// A messageId sent is kept, and still deduplicates.
	webtest.MustTrackingOK(t, "with id", a.Post("/v1/track", []byte(`{"messageId":"m-1","userId":"u","event":"E"}`), a.Auth()...))
	webtest.MustTrackingOK(t, "with id again", a.Post("/v1/track", []byte(`{"messageId":"m-1","userId":"u","event":"E"}`), a.Auth()...))
	if n := a.Count(); n != 5 {
		t.Fatalf("%d events stored, want 5", n)
	}

	// The webhook: Segment's retry of a body without messageId stores once.
	if err := a.St.SetSecret(context.Background(), a.WS.ID, "hook-secret-0123456789", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	hook := []byte(`{"type":"track","userId":"hook-user","event":"Retried"}`)
	for range 2 {
		status, raw := rawPost(t, a.URL+"/api/public/webhooks/segment", hook, map[string]string{
			"Content-Type": "application/json", "X-Signature": segment.Sign([]byte("hook-secret-0123456789"), hook)})
		if status != http.StatusOK {
			t.Fatalf("webhook: %d %s", status, raw)
		}
	}
	if n := a.Count(); n != 6 {
		t.Fatalf("%d events after a retried webhook body, want 6", n)
	}
}

// Item 1: every secret saved within the grace keeps verifying, the delivery
// says which one verified it, the page lists them with their expiry and
// revokes one at a time.
func TestWebhookSaysWhichSecretVerified(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ws := d.DefaultWS()
	p := d.C.MustSignIn()
	const a, b, c = "secret-A-0123456789aaaa", "secret-B-0123456789bbbb", "secret-C-0123456789cccc"
	p = d.C.SaveSecret(p, a)
	p = d.C.SaveSecret(p, b)
	p = d.C.SaveSecret(p, c)
	if !strings.Contains(p.Text("#secrets-rule"), "Up to 3 secrets verify at once") {
		t.Fatalf("the page does not say how many secrets verify: %q", p.Text("#secrets-rule"))
	}
	if n := p.Doc.Find("#secrets tr.secret-previous").Length(); n != 2 {
		t.Fatalf("%d previous secrets listed, want 2", n)
	}
	if got := p.Doc.Find("#secrets .secret-tail").Map(func(_ int, s *goquery.Selection) string { return s.Text() }); strings.Join(got, " ") != "…bbbb …aaaa" {
		t.Fatalf("previous secrets shown as %v", got)
	}
	for _, sec := range []string{a, b, c} {
		if got := d.PostHook(ws, sec); got != http.StatusOK {
			t.Fatalf("%s… during its grace: %d", sec[:8], got)
		}
	}
	// The recent deliveries name the secret of each, newest first.
	var creds []string
	testutil.Eventually(5*time.Second, func() bool {
		s := d.C.Get("/dashboard/settings")
		creds = s.Doc.Find("#recent-deliveries .delivery-credential").Map(func(_ int, s *goquery.Selection) string { return strings.TrimSpace(s.Text()) })
		return len(creds) >= 3
	})
	if len(creds) < 3 || creds[0] != "current …cccc" || creds[1] != "previous …bbbb" || creds[2] != "previous …aaaa" {
		t.Fatalf("deliveries name the secrets as %v", creds)
	}
	// Revoke the oldest only.
	p = d.C.Get("/dashboard/settings")
	r := d.C.Submit(p, "#secrets tr.secret-previous:last-child .revoke-secret-form", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("revoke one: %d %s", r.Status, r.Body)
	}
	after := d.C.Follow(r)
	if !strings.Contains(after.Text("#flash"), "…aaaa was revoked") || after.Doc.Find("#secrets tr.secret-previous").Length() != 1 {
		t.Fatalf("after revoking one: flash %q, %d listed", after.Text("#flash"), after.Doc.Find("#secrets tr.secret-previous").Length())
	}
	if got := d.PostHook(ws, a); got != http.StatusUnauthorized {
		t.Fatalf("revoked secret: %d, want 401", got)
	}
	if got := d.PostHook(ws, b); got != http.StatusOK {
		t.Fatalf("the other previous secret: %d, want 200", got)
	}
	// Never more than a quarter of a secret is shown: a legacy 8-character
	// secret (the form now refuses one that short) shows 2.
	if err := d.St.SetSecret(context.Background(), ws.ID, "short-12", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := d.C.Get("/dashboard/settings").Text("#secret-last4"); got != "…12" {
		t.Fatalf("an 8-character secret shows %q, want 2 characters", got)
	}
}

// Item 6: a session that ended sends the admin to a sign-in page that says
// so, and back to the page they were on; only local dashboard paths.
func TestSessionEndedReturnsToThePage(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	p := d.C.MustSignIn()
	// The session ends on the server (as at its idle or absolute limit);
	// the browser still sends its cookie.
	endSessions := func() {
		t.Helper()
		far := time.Now().Add(365 * 24 * time.Hour)
		if _, err := d.St.DeleteSessionsBefore(context.Background(), far, far); err != nil {
			t.Fatal(err)
		}
	}
	endSessions()

	r := d.C.Get("/dashboard/events?user=Ada&type=track")
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || loc.Path != "/login" || loc.Query().Get("expired") != "1" ||
		loc.Query().Get("next") != "/dashboard/events?user=Ada&type=track" {
		t.Fatalf("expired GET: %d to %q", r.Status, r.Header.Get("Location"))
	}
	login := d.C.Follow(r)
	if !strings.Contains(login.Text("#login-notice"), "session ended") {
		t.Fatalf("the sign-in page does not say the session ended: %q", login.Text("#login-notice"))
	}
	back := d.C.Post("/login", url.Values{"csrf_token": {login.Attr(`#login-form input[name="csrf_token"]`, "value")},
		"next": {login.Attr(`#login-form input[name="next"]`, "value")}, "email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}})
	if back.Status != http.StatusSeeOther || back.Header.Get("Location") != "/dashboard/events?user=Ada&type=track" {
		t.Fatalf("after sign-in: %d to %q", back.Status, back.Header.Get("Location"))
	}

	// A form posted after the session ended returns to the page it was on.
	endSessions()
	req, _ := http.NewRequest(http.MethodPost, d.URL+"/dashboard/settings/writekeys", strings.NewReader("name=x&csrf_token=t"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", d.URL+"/dashboard/settings?ws="+p.Attr(`input[name="workspace_id"]`, "value"))
	r = d.C.Do(req)
	loc, _ = url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || loc.Query().Get("expired") != "1" || !strings.HasPrefix(loc.Query().Get("next"), "/dashboard/settings?ws=") {
		t.Fatalf("expired POST: %d to %q", r.Status, r.Header.Get("Location"))
	}
	// Elsewhere is never a destination.
	for _, next := range []string{"//evil.example/x", "https://evil.example/", "/login", `/\evil.example`} {
		l := d.NewBrowser().Get("/login?next=" + url.QueryEscape(next))
		if got := l.Attr(`#login-form input[name="next"]`, "value"); got != "/dashboard/settings" {
			t.Errorf("next=%q kept as %q", next, got)
		}
	}
	// Signed out on purpose: no "session ended".
	fresh := d.NewBrowser()
	if l := fresh.Get("/login?next=%2Fdashboard%2Fevents"); l.Doc.Find("#login-notice").Length() != 0 {
		t.Fatal("a first visit is told its session ended")
	}
}

// Item 11: with a BASE_URL Segment cannot reach, the page says so and links
// to the README; the test event says it was posted internally.
func TestSettingsSaysSegmentCannotReachLocalhost(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{Env: map[string]string{"BASE_URL": "http://localhost:8081"}})
	p := d.C.SaveSecret(d.C.MustSignIn(), "reach-secret-0123456789")
	if !strings.Contains(p.Text("#base-url-unreachable"), "Segment cannot reach this URL") ||
		p.Attr("#expose-docs", "href") != "/docs/expose" {
		t.Fatalf("no reachability notice: %q", p.Text("#base-url-unreachable"))
	}
	r := d.C.Follow(d.C.Submit(p, "#test-event-form", nil))
	if f := r.Text("#flash"); !strings.Contains(f, "posted internally") || !strings.Contains(f, "Segment itself cannot reach http://localhost:8081") {
		t.Fatalf("test event flash: %q", f)
	}
	public := webtest.StartDashboard(t, webtest.DashOptions{Env: map[string]string{"BASE_URL": "https://inlet.example.com"}})
	if pp := public.C.MustSignIn(); pp.Doc.Find("#base-url-unreachable").Length() != 0 {
		t.Fatal("a public BASE_URL is called unreachable")
	}
}
