package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Security review item 7: a write-key holder claiming a messageId first does
// not suppress the genuine webhook event with that id.
func TestWriteKeyCannotClaimWebhookMessageID(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		a := webtest.StartTracking(t, st)
		webtest.MustTrackingOK(t, "claim", a.Post("/v1/track", []byte(`{"event":"Fake","userId":"x","messageId":"order-991"}`), a.Auth()...))
		if err := st.SetSecret(context.Background(), a.WS.ID, webtest.FixtureSecret, "t", time.Hour); err != nil {
			t.Fatal(err)
		}
		a.Srv.InvalidateWorkspace()
		h := &webtest.Hook{T: t, St: st, Srv: a.Srv, URL: a.URL, WS: a.WS}
		body := []byte(`{"type":"track","event":"Order Completed","userId":"u1","messageId":"order-991"}`)
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, body), body); r.Status != http.StatusOK || r.Accepted != 1 || r.Duplicates != 0 {
			t.Fatalf("genuine webhook event after the claim: %+v", r)
		}
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, body), body); r.Accepted != 0 || r.Duplicates != 1 {
			t.Fatalf("the webhook's retry still dedupes: %+v", r)
		}
		if n := a.Count(); n != 2 {
			t.Fatalf("%d events, want the claim and the genuine one", n)
		}
	})
}

// Security review item 8: year 10000 in UTC is refused on both stores.
func TestTimestampBeyondYear9999Refused(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := webtest.StartHook(t, st, nil)
		h.SetSecret(h.WS.ID, webtest.FixtureSecret)
		body := []byte(`{"type":"track","event":"E","userId":"u","timestamp":"9999-12-31T23:59:59-23:59"}`)
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, body), body); r.Status != http.StatusBadRequest || !strings.Contains(r.Error, "0001–9999") {
			t.Fatalf("year 10000: %+v", r)
		}
		if n := h.Count(h.WS.ID); n != 0 {
			t.Fatalf("%d stored", n)
		}
	})
}

// Security review item 13: a writeKey spelled with an escape is removed too.
func TestEscapedWriteKeyIsNotStored(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	body := `{"event":"E","userId":"u","messageId":"esc","write\u004bey":"` + a.Raw + `"}`
	webtest.MustTrackingOK(t, "escaped writeKey", a.Post("/v1/track", []byte(body), a.Auth()...))
	if raw := string(a.Stored("esc").Raw); strings.Contains(raw, a.Raw) {
		t.Fatalf("the write key was stored with the event: %s", raw)
	}
}

// Security review item 12: only a short id of safe characters is echoed.
func TestRequestIDIsFiltered(t *testing.T) {
	t.Parallel()
	h := webtest.StartHook(t, testdb.Open(t), nil)
	get := func(id string) string {
		req, _ := http.NewRequest(http.MethodGet, h.URL+"/healthz", nil)
		req.Header.Set("X-Request-Id", id)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("X-Request-Id")
	}
	if got := get("abc-123_X.9"); got != "abc-123_X.9" {
		t.Errorf("a safe id was not kept: %q", got)
	}
	for _, bad := range []string{strings.Repeat("a", 60<<10), "a b", "<script>", "x\"y"} {
		if got := get(bad); got == bad || len(got) > 64 || got == "" {
			t.Errorf("id %.20q answered with %.80q", bad, got)
		}
	}
}

// Security review item 15: HSTS on dashboard responses when BASE_URL is https.
func TestHSTSWhenBaseURLIsHTTPS(t *testing.T) {
	t.Parallel()
	for base, want := range map[string]bool{"https://inlet.example.com": true, "http://inlet.test": false} {
		d := webtest.StartDashboard(t, webtest.DashOptions{Env: map[string]string{"BASE_URL": base, "COOKIE_SECURE": "false"}})
		p := d.C.Get("/login")
		if got := p.Header.Get("Strict-Transport-Security") != ""; got != want {
			t.Errorf("BASE_URL %s: HSTS sent %v, want %v (%q)", base, got, want, p.Header.Get("Strict-Transport-Security"))
		}
	}
}

// Security review item 10: a short secret is refused with a clear message,
// and a stored short one is never shown beyond a quarter of it.
func TestDashboardSecretLengthAndTail(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	p := d.C.Submit(d.C.MustSignIn(), "#secret-form", url.Values{"secret": {"ab"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text("#secret-error"), "at least 16") {
		t.Fatalf("2-character secret: %d %q", p.Status, p.Text("#secret-error"))
	}
	// One saved before this rule (through the store, as an old version did).
	if err := d.St.SetSecret(context.Background(), d.DefaultWS().ID, "abcdefgh", "old", time.Hour); err != nil {
		t.Fatal(err)
	}
	d.Srv.InvalidateWorkspace()
	if got := d.C.Get("/dashboard/settings").Text("#secret-last4"); got != "…gh" {
		t.Fatalf("an 8-character secret shows %q, want at most a quarter (…gh)", got)
	}
}
