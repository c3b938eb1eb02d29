package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
)

// postHook sends a fixture body signed with secret to the webhook of ws.
func (d *dashServer) postHook(ws store.Workspace, secret string) int {
	d.t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "internal", "segment", "testdata", "track.json"))
	if err != nil {
		d.t.Fatal(err)
	}
	u := d.url + "/api/public/webhooks/segment"
	if !ws.IsDefault {
		u += "?workspaceId=" + ws.ID.String()
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (d *dashServer) secretOf(ws store.Workspace) store.SecretInfo {
	d.t.Helper()
	w, err := d.st.Workspace(context.Background(), ws.ID)
	if err != nil {
		d.t.Fatal(err)
	}
	return w.Secret
}

func (d *dashServer) defaultWS() store.Workspace {
	d.t.Helper()
	ws, err := d.st.DefaultWorkspace(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	return ws
}

// saveSecret submits the secret form of the settings page and returns the page after the redirect.
func (b *browser) saveSecret(settings page, secret string) page {
	b.t.Helper()
	p := b.submit(settings, "#secret-form", url.Values{"secret": {secret}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("save secret: %d: %s", p.Status, p.Body)
	}
	return b.follow(p)
}

func TestSettingsShowsWebhookURLAndSteps(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	p := d.c.mustSignIn()
	src := p.Doc.Find("section#segment-source")
	if src.Length() != 1 {
		t.Fatal("no #segment-source section")
	}
	if got := p.attr("#webhook-url", "value"); got != "http://inlet.test/api/public/webhooks/segment" {
		t.Fatalf("webhook URL %q", got)
	}
	if _, ro := p.Doc.Find("#webhook-url").Attr("readonly"); !ro {
		t.Error("webhook URL field is not readonly")
	}
	if p.Doc.Find(`button[data-copy="#webhook-url"]`).Length() != 1 {
		t.Error("no copy button for the webhook URL")
	}
	steps := src.Find("ol.steps > li")
	if steps.Length() != 3 || !strings.Contains(steps.Eq(0).Text(), "Webhooks") || !strings.Contains(steps.Eq(2).Text(), "Shared Secret") {
		t.Fatalf("setup steps: %d: %q", steps.Length(), steps.Text())
	}
	if p.attr("#secret", "type") != "password" || p.Doc.Find(`button[data-generate-secret="#secret"]`).Length() != 1 ||
		p.Doc.Find(`button[data-toggle-password="#secret"]`).Length() != 1 {
		t.Error("secret field is not a password field with show and generate buttons")
	}
	if p.Doc.Find("#secret-missing").Length() != 1 {
		t.Error("no notice that no secret is set yet")
	}
	// Every form field has a label.
	p.Doc.Find("input:not([type=hidden]), select").Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		if id == "" || p.Doc.Find(`label[for="`+id+`"]`).Length() == 0 {
			html, _ := goquery.OuterHtml(s)
			t.Errorf("field without a label: %s", html)
		}
	})
}

func TestSettingsSaveSecretMasked(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	const secret = "my-very-own-segment-secret-9f3a"
	p := d.c.saveSecret(d.c.mustSignIn(), secret)

	if p.text("#flash") == "" || !strings.Contains(p.attr("#flash", "class"), "flash-success") {
		t.Fatalf("no success flash: %q", p.text("#flash"))
	}
	if got := p.text("#secret-last4"); got != "…9f3a" {
		t.Fatalf("last 4 shown as %q", got)
	}
	if got := p.text("#secret-set-by"); got != adminEmail {
		t.Fatalf("set by %q", got)
	}
	if p.attr("#secret-set-at", "datetime") == "" {
		t.Error("no time the secret was set")
	}
	if got := d.secretOf(d.defaultWS()).Current; got != secret {
		t.Fatalf("stored %q", got)
	}
	// The secret never comes back to the browser, on any page.
	for _, path := range []string{"/dashboard/settings", "/dashboard/events", "/dashboard/status.json"} {
		pg := d.c.get(path)
		if pg.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, pg.Status)
		}
		if bytes.Contains(pg.Body, []byte(secret)) || bytes.Contains(pg.Body, []byte(secret[:12])) {
			t.Fatalf("%s contains the secret", path)
		}
	}
	if v, _ := d.c.get("/dashboard/settings").Doc.Find("#secret").Attr("value"); v != "" {
		t.Fatalf("secret field prefilled with %q", v)
	}
	if got := d.postHook(d.defaultWS(), secret); got != http.StatusOK {
		t.Fatalf("webhook signed with the saved secret: %d", got)
	}
}

func TestSettingsBackgroundRefreshKeepsTheFlash(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	r := d.c.submit(d.c.mustSignIn(), "#secret-form", url.Values{"secret": {"flash-secret-0123456789"}})
	req, err := http.NewRequest(http.MethodGet, d.url+r.Header.Get("Location"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Inlet-Background", "1") // what the status poller sends
	if bg := d.c.do(req); bg.Status != http.StatusOK || bg.Doc.Find("#flash").Length() != 0 || bg.Doc.Find("#connection-status").Length() != 1 {
		t.Fatalf("background refresh: %d, flash shown %v", bg.Status, bg.Doc.Find("#flash").Length() == 1)
	}
	if p := d.c.follow(r); !strings.Contains(p.text("#flash"), "saved") {
		t.Fatalf("the flash was lost to a background refresh: %q", p.text("#flash"))
	}
}

func TestSettingsEmptySecretIsAnErrorNextToTheField(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	settings := d.c.mustSignIn()
	for _, value := range []string{"", "   ", "line\nbreak", strings.Repeat("x", 1025)} {
		p := d.c.submit(settings, "#secret-form", url.Values{"secret": {value}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%q: status %d", value, p.Status)
		}
		field := p.Doc.Find("#secret")
		if v, _ := field.Attr("aria-invalid"); v != "true" {
			t.Errorf("%q: field not marked invalid", value)
		}
		if v, _ := field.Attr("aria-describedby"); v != "secret-error" || p.text("#secret-error") == "" {
			t.Errorf("%q: no error tied to the field: %q", value, p.text("#secret-error"))
		}
		// The error sits in the secret form, next to the field.
		if p.Doc.Find("#secret-form #secret-error").Length() != 1 {
			t.Errorf("%q: error is not inside the secret form", value)
		}
	}
	if d.secretOf(d.defaultWS()).IsSet() {
		t.Fatal("a refused save stored something")
	}
}

func TestSettingsRotationAndRevoke(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	ws := d.defaultWS()
	p := d.c.saveSecret(d.c.mustSignIn(), "old-secret-aaaaaa")
	p = d.c.saveSecret(p, "new-secret-bbbbbb")

	if !strings.Contains(p.text("#flash"), "previous one keeps working") {
		t.Fatalf("flash does not mention the grace period: %q", p.text("#flash"))
	}
	if p.Doc.Find("#secrets tr.secret-previous").Length() != 1 || p.attr("#secrets .secret-expires", "datetime") == "" ||
		p.text("#secrets .secret-tail") != "…aaaa" {
		t.Fatalf("page does not show the previous secret and its expiry: tail %q", p.text("#secrets .secret-tail"))
	}
	// The last 4 of a 17-character secret (never more than a quarter).
	if p.text("#secret-last4") != "…bbbb" {
		t.Fatalf("last4 %q", p.text("#secret-last4"))
	}
	for _, sec := range []string{"old-secret-aaaaaa", "new-secret-bbbbbb"} {
		if got := d.postHook(ws, sec); got != http.StatusOK {
			t.Fatalf("during the grace period %q: %d", sec, got)
		}
	}

	r := d.c.submit(p, "#secrets tr.secret-previous .revoke-secret-form", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	after := d.c.follow(r)
	if after.Doc.Find("#secrets").Length() != 0 {
		t.Fatal("previous secret still shown after revoke")
	}
	if got := d.postHook(ws, "old-secret-aaaaaa"); got != http.StatusUnauthorized {
		t.Fatalf("old secret after revoke: %d, want 401", got)
	}
	if got := d.postHook(ws, "new-secret-bbbbbb"); got != http.StatusOK {
		t.Fatalf("new secret after revoke: %d", got)
	}
}

func TestSettingsClearNeedsConfirmation(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	ws := d.defaultWS()
	p := d.c.saveSecret(d.c.mustSignIn(), "to-be-cleared-1234")
	if v, _ := p.Doc.Find("#clear-form").Attr("data-confirm"); v == "" {
		t.Error("clear form asks for no confirmation in the browser")
	}

	unconfirmed := d.c.submit(p, "#clear-form", nil)
	if unconfirmed.Status != http.StatusUnprocessableEntity || unconfirmed.text("#clear-error") == "" {
		t.Fatalf("unconfirmed clear: %d %q", unconfirmed.Status, unconfirmed.text("#clear-error"))
	}
	if !d.secretOf(ws).IsSet() {
		t.Fatal("an unconfirmed clear removed the secret")
	}

	done := d.c.submit(p, "#clear-form", url.Values{"confirm": {"yes"}})
	if done.Status != http.StatusSeeOther {
		t.Fatalf("confirmed clear: %d", done.Status)
	}
	if d.secretOf(ws).IsSet() {
		t.Fatal("secret still set")
	}
	if got := d.postHook(ws, "to-be-cleared-1234"); got != http.StatusServiceUnavailable {
		t.Fatalf("webhook after clear: %d, want 503", got)
	}
	if d.c.follow(done).Doc.Find("#secret-missing").Length() != 1 {
		t.Fatal("page does not say the secret is missing")
	}
}

func TestSettingsWorkspaceIsolation(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	settings := d.c.mustSignIn()
	d.c.saveSecret(settings, "secret-of-default-ws")

	for _, bad := range []string{"", "  ", strings.Repeat("n", 101)} {
		p := d.c.submit(settings, "#workspace-form", url.Values{"name": {bad}})
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find("#workspace-form #workspace-name-error").Length() != 1 {
			t.Fatalf("name %q: %d", bad, p.Status)
		}
	}
	created := d.c.submit(settings, "#workspace-form", url.Values{"name": {"Staging"}})
	if created.Status != http.StatusSeeOther {
		t.Fatalf("create workspace: %d: %s", created.Status, created.Body)
	}
	staging := d.workspace(context.Background(), "Staging")
	p := d.c.follow(created)
	if p.text("#workspace-name") != "Staging" {
		t.Fatalf("not switched to the new workspace: %q", p.text("#workspace-name"))
	}
	if got := p.attr("#webhook-url", "value"); got != "http://inlet.test/api/public/webhooks/segment?workspaceId="+staging.ID.String() {
		t.Fatalf("staging webhook URL %q", got)
	}
	if got := p.attr(`#ws-select option[selected]`, "value"); got != staging.ID.String() {
		t.Fatalf("switcher shows %q selected", got)
	}
	if p.Doc.Find("#secret-missing").Length() != 1 {
		t.Fatal("the new workspace shows a secret")
	}
	d.c.saveSecret(p, "secret-of-staging-ws")

	if got := d.postHook(staging, "secret-of-default-ws"); got != http.StatusUnauthorized {
		t.Fatalf("default's secret on staging's webhook: %d, want 401", got)
	}
	if got := d.postHook(d.defaultWS(), "secret-of-staging-ws"); got != http.StatusUnauthorized {
		t.Fatalf("staging's secret on default's webhook: %d, want 401", got)
	}
	if got := d.postHook(staging, "secret-of-staging-ws"); got != http.StatusOK {
		t.Fatalf("staging's own secret: %d", got)
	}

	// The session remembers the choice; ?ws= switches back.
	if got := d.c.get("/dashboard/settings").text("#workspace-name"); got != "Staging" {
		t.Fatalf("remembered workspace %q", got)
	}
	back := d.c.get("/dashboard/settings?ws=" + d.defaultWS().ID.String())
	if back.text("#workspace-name") != "Default" || back.text("#secret-last4") != "…t-ws" {
		t.Fatalf("switch back: %q %q", back.text("#workspace-name"), back.text("#secret-last4"))
	}
	if got := d.c.get("/dashboard/settings?ws=not-a-uuid").text("#workspace-name"); got != "Default" {
		t.Fatalf("bad ?ws= gave %q", got)
	}
}

func TestSettingsSendTestEvent(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	ws := d.defaultWS()
	settings := d.c.mustSignIn()
	if settings.Doc.Find("#test-event-form").Length() != 0 {
		t.Fatal("test button offered without a secret")
	}
	p := d.c.saveSecret(settings, "test-event-secret")
	for i := 1; i <= 2; i++ { // unique messageId: the second is stored too, not a duplicate
		r := d.c.submit(p, "#test-event-form", nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("send: %d", r.Status)
		}
		p = d.c.follow(r)
		if !strings.Contains(p.attr("#flash", "class"), "flash-success") || !strings.Contains(p.text("#flash"), `"accepted":1`) {
			t.Fatalf("flash after test event %d: %q", i, p.text("#flash"))
		}
		n, err := d.st.CountEvents(context.Background(), ws.ID)
		if err != nil || n != int64(i) {
			t.Fatalf("events stored after %d test events: %d (%v)", i, n, err)
		}
	}
}
