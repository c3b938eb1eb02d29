package dashboard_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/inlet-dev/inlet/internal/store"
)

// An admin adds a destination, sees its secret once, sends a test event the
// receiver verifies with the reference library, sees the attempt (the
// receiver's answer escaped), pauses and resumes it, rotates its secret,
// retries and replays.
func TestDestinationPages(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := context.Background()
	var mu sync.Mutex
	var reqs []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs, bodies = append(reqs, r), append(bodies, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `<script>alert("receiver")</script>`)
	}))
	defer recv.Close()

	d.C.MustSignIn()
	p := d.C.Get("/dashboard/destinations")
	if p.Status != http.StatusOK || p.Doc.Find("#nav-destinations").Length() != 1 || p.Doc.Find("#no-destinations").Length() != 1 {
		t.Fatalf("empty destinations page: %d\n%s", p.Status, p.Body)
	}
	r := d.C.Submit(p, "#destination-form", url.Values{"url": {"http://169.254.169.254/latest"}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Text("#destination-url-error"), "metadata") ||
		r.Attr("#destination-url", "aria-invalid") != "true" {
		t.Fatalf("metadata URL: %d %q", r.Status, r.Text("#destination-url-error"))
	}
	r = d.C.Submit(p, "#destination-form", url.Values{"url": {recv.URL + "/in"}, "name": {"CRM <b>sync</b>"}, "types": {"track", "identify"}})
	if r.Status != http.StatusOK {
		t.Fatalf("create: %d\n%s", r.Status, r.Body)
	}
	secret := r.Attr("#new-secret", "value")
	if !strings.HasPrefix(secret, "whsec_") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("secret %q, Cache-Control %q", secret, r.Header.Get("Cache-Control"))
	}
	if got := r.Text("#destination-list tbody tr td a"); got != "CRM <b>sync</b>" {
		t.Fatalf("name shown as %q", got)
	}
	link := r.Attr("#new-destination-link", "href")
	p = d.C.Get(link)
	if p.Status != http.StatusOK || bytes.Contains(p.Body, []byte(secret)) {
		t.Fatalf("destination page: %d (secret shown again: %v)", p.Status, bytes.Contains(p.Body, []byte(secret)))
	}
	if p.Text("#figure-lag") != "up to date" || p.Text("#figure-delivered") != "0" || !strings.Contains(p.Text("#retry-schedule"), "5s, 5m0s") {
		t.Fatalf("figures: lag %q delivered %q schedule %q", p.Text("#figure-lag"), p.Text("#figure-delivered"), p.Text("#retry-schedule"))
	}

	// Send test event: delivered, verified, recorded with the escaped answer.
	r = d.C.Follow(d.C.Submit(p, "form:has(#destination-test)", nil))
	if !strings.Contains(r.Text("#flash"), "Test event delivered: HTTP 202") {
		t.Fatalf("test event flash: %q", r.Text("#flash"))
	}
	mu.Lock()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests", len(reqs))
	}
	wh, _ := standardwebhooks.NewWebhook(secret)
	if err := wh.Verify(bodies[0], reqs[0].Header); err != nil {
		t.Fatalf("test event does not verify with the secret shown: %v", err)
	}
	mu.Unlock()
	if got := r.Text("#destination-attempts .attempt-status"); got != "202" {
		t.Fatalf("attempt status %q", got)
	}
	if r.Doc.Find("#destination-attempts script").Length() != 0 || !strings.Contains(r.Text(".response-excerpt"), `<script>alert("receiver")</script>`) {
		t.Fatal("the receiver's answer is not shown as text")
	}

	// Pause, resume.
	r = d.C.Follow(d.C.Submit(r, "form:has(#destination-pause)", nil))
	if r.Doc.Find("#destination-paused").Length() != 1 || r.Doc.Find("#destination-resume").Length() != 1 {
		t.Fatalf("after pause:\n%s", r.Body)
	}
	r = d.C.Follow(d.C.Submit(r, "form:has(#destination-resume)", nil))
	if r.Doc.Find("#destination-paused").Length() != 0 {
		t.Fatal("still paused after resume")
	}
	// Audience events: on by default, off and on again from the page.
	if r.Doc.Find("#destination-audience-events-off").Length() != 1 {
		t.Fatalf("audience events are not shown as sent: %s", r.Text("#destination-audience-events"))
	}
	r = d.C.Follow(d.C.Submit(r, "form:has(#destination-audience-events-off)", nil))
	if r.Doc.Find("#destination-audience-events-on").Length() != 1 || !strings.Contains(r.Text("#destination-audience-events"), "not sent") {
		t.Fatalf("after turning audience events off: %s", r.Text("#destination-audience-events"))
	}
	r = d.C.Follow(d.C.Submit(r, "form:has(#destination-audience-events-on)", nil))
	if r.Doc.Find("#destination-audience-events-off").Length() != 1 {
		t.Fatalf("after turning audience events on: %s", r.Text("#destination-audience-events"))
	}

	// Rotate: a new secret shown once; the old one still signs for the grace.
	rot := d.C.Submit(r, "form:has(#destination-rotate)", nil)
	fresh := rot.Attr("#new-secret", "value")
	if rot.Status != http.StatusOK || !strings.HasPrefix(fresh, "whsec_") || fresh == secret || !strings.Contains(rot.Text("#destination-secret"), "previous secret also signs") {
		t.Fatalf("rotate: %d new %q\n%s", rot.Status, fresh, rot.Text("#destination-secret"))
	}

	// Replay: a range is required; a valid one queues the stored events.
	ws := d.DefaultWS()
	if _, err := d.St.InsertEvents(ctx, []store.NewEvent{{WorkspaceID: ws.ID, MessageID: "rp1", Type: "track", ReceivedAt: time.Now(),
		Source: "webhook", Raw: []byte(`{"type":"track","messageId":"rp1"}`)}}); err != nil {
		t.Fatal(err)
	}
	bad := d.C.Submit(rot, "#replay-form", url.Values{"from": {""}, "to": {""}})
	if bad.Status != http.StatusUnprocessableEntity || bad.Text("#replay-error") == "" {
		t.Fatalf("replay without a range: %d %q", bad.Status, bad.Text("#replay-error"))
	}
	from := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
	to := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	ok := d.C.Follow(d.C.Submit(rot, "#replay-form", url.Values{"from": {from}, "to": {to}}))
	if !strings.Contains(ok.Text("#flash"), "1 events queued") {
		t.Fatalf("replay flash: %q", ok.Text("#flash"))
	}
	if ok.Text("#figure-retrying") != "1" {
		t.Fatalf("replayed event not waiting: %q", ok.Text("#figure-retrying"))
	}
	ok = d.C.Follow(d.C.Submit(ok, "form:has(#destination-retry)", nil))
	if !strings.Contains(ok.Text("#flash"), "1 waiting or failed deliveries") {
		t.Fatalf("retry flash: %q", ok.Text("#flash"))
	}

	// Another workspace's destination is not reachable from this one.
	other, err := d.St.CreateWorkspace(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	if nf := d.C.Get("/dashboard/destinations/" + strings.TrimPrefix(link, "/dashboard/destinations/") + "?ws=" + other.ID.String()); nf.Status != http.StatusNotFound {
		t.Fatalf("destination of another workspace: %d", nf.Status)
	}
}
