package dashboard_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

func TestSettingsShowsWebhookURLAndSteps(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	p := d.C.MustSignIn()
	src := p.Doc.Find("section#segment-source")
	if src.Length() != 1 {
		t.Fatal("no #segment-source section")
	}
	if got := p.Attr("#webhook-url", "value"); got != "http://inlet.test/api/public/webhooks/segment" {
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
	if p.Attr("#secret", "type") != "password" || p.Doc.Find(`button[data-generate-secret="#secret"]`).Length() != 1 ||
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
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	const secret = "my-very-own-segment-secret-9f3a"
	p := d.C.SaveSecret(d.C.MustSignIn(), secret)

	if p.Text("#flash") == "" || !strings.Contains(p.Attr("#flash", "class"), "flash-success") {
		t.Fatalf("no success flash: %q", p.Text("#flash"))
	}
	if got := p.Text("#secret-last4"); got != "…9f3a" {
		t.Fatalf("last 4 shown as %q", got)
	}
	if got := p.Text("#secret-set-by"); got != webtest.AdminEmail {
		t.Fatalf("set by %q", got)
	}
	if p.Attr("#secret-set-at", "datetime") == "" {
		t.Error("no time the secret was set")
	}
	if got := d.SecretOf(d.DefaultWS()).Current; got != secret {
		t.Fatalf("stored %q", got)
	}
	// The secret never comes back to the browser, on any page.
	for _, path := range []string{"/dashboard/settings", "/dashboard/events", "/dashboard/status.json"} {
		pg := d.C.Get(path)
		if pg.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, pg.Status)
		}
		if bytes.Contains(pg.Body, []byte(secret)) || bytes.Contains(pg.Body, []byte(secret[:12])) {
			t.Fatalf("%s contains the secret", path)
		}
	}
	if v, _ := d.C.Get("/dashboard/settings").Doc.Find("#secret").Attr("value"); v != "" {
		t.Fatalf("secret field prefilled with %q", v)
	}
	if got := d.PostHook(d.DefaultWS(), secret); got != http.StatusOK {
		t.Fatalf("webhook signed with the saved secret: %d", got)
	}
}

func TestSettingsBackgroundRefreshKeepsTheFlash(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	r := d.C.Submit(d.C.MustSignIn(), "#secret-form", url.Values{"secret": {"flash-secret-0123456789"}})
	req, err := http.NewRequest(http.MethodGet, d.URL+r.Header.Get("Location"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Inlet-Background", "1") // what the status poller sends
	if bg := d.C.Do(req); bg.Status != http.StatusOK || bg.Doc.Find("#flash").Length() != 0 || bg.Doc.Find("#connection-status").Length() != 1 {
		t.Fatalf("background refresh: %d, flash shown %v", bg.Status, bg.Doc.Find("#flash").Length() == 1)
	}
	if p := d.C.Follow(r); !strings.Contains(p.Text("#flash"), "saved") {
		t.Fatalf("the flash was lost to a background refresh: %q", p.Text("#flash"))
	}
}

func TestSettingsEmptySecretIsAnErrorNextToTheField(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	settings := d.C.MustSignIn()
	for _, value := range []string{"", "   ", "line\nbreak", strings.Repeat("x", 1025)} {
		p := d.C.Submit(settings, "#secret-form", url.Values{"secret": {value}})
		if p.Status != http.StatusUnprocessableEntity {
			t.Fatalf("%q: status %d", value, p.Status)
		}
		field := p.Doc.Find("#secret")
		if v, _ := field.Attr("aria-invalid"); v != "true" {
			t.Errorf("%q: field not marked invalid", value)
		}
		if v, _ := field.Attr("aria-describedby"); v != "secret-error" || p.Text("#secret-error") == "" {
			t.Errorf("%q: no error tied to the field: %q", value, p.Text("#secret-error"))
		}
		// The error sits in the secret form, next to the field.
		if p.Doc.Find("#secret-form #secret-error").Length() != 1 {
			t.Errorf("%q: error is not inside the secret form", value)
		}
	}
	if d.SecretOf(d.DefaultWS()).IsSet() {
		t.Fatal("a refused save stored something")
	}
}

func TestSettingsRotationAndRevoke(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ws := d.DefaultWS()
	p := d.C.SaveSecret(d.C.MustSignIn(), "old-secret-aaaaaa")
	p = d.C.SaveSecret(p, "new-secret-bbbbbb")

	if !strings.Contains(p.Text("#flash"), "previous one keeps working") {
		t.Fatalf("flash does not mention the grace period: %q", p.Text("#flash"))
	}
	if p.Doc.Find("#secrets tr.secret-previous").Length() != 1 || p.Attr("#secrets .secret-expires", "datetime") == "" ||
		p.Text("#secrets .secret-tail") != "…aaaa" {
		t.Fatalf("page does not show the previous secret and its expiry: tail %q", p.Text("#secrets .secret-tail"))
	}
	// The last 4 of a 17-character secret (never more than a quarter).
	if p.Text("#secret-last4") != "…bbbb" {
		t.Fatalf("last4 %q", p.Text("#secret-last4"))
	}
	for _, sec := range []string{"old-secret-aaaaaa", "new-secret-bbbbbb"} {
		if got := d.PostHook(ws, sec); got != http.StatusOK {
			t.Fatalf("during the grace period %q: %d", sec, got)
		}
	}

	r := d.C.Submit(p, "#secrets tr.secret-previous .revoke-secret-form", nil)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.Status)
	}
	after := d.C.Follow(r)
	if after.Doc.Find("#secrets").Length() != 0 {
		t.Fatal("previous secret still shown after revoke")
	}
	if got := d.PostHook(ws, "old-secret-aaaaaa"); got != http.StatusUnauthorized {
		t.Fatalf("old secret after revoke: %d, want 401", got)
	}
	if got := d.PostHook(ws, "new-secret-bbbbbb"); got != http.StatusOK {
		t.Fatalf("new secret after revoke: %d", got)
	}
}

func TestSettingsClearNeedsConfirmation(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ws := d.DefaultWS()
	p := d.C.SaveSecret(d.C.MustSignIn(), "to-be-cleared-1234")
	if v, _ := p.Doc.Find("#clear-form").Attr("data-confirm"); v == "" {
		t.Error("clear form asks for no confirmation in the browser")
	}

	unconfirmed := d.C.Submit(p, "#clear-form", nil)
	if unconfirmed.Status != http.StatusUnprocessableEntity || unconfirmed.Text("#clear-error") == "" {
		t.Fatalf("unconfirmed clear: %d %q", unconfirmed.Status, unconfirmed.Text("#clear-error"))
	}
	if !d.SecretOf(ws).IsSet() {
		t.Fatal("an unconfirmed clear removed the secret")
	}

	done := d.C.Submit(p, "#clear-form", url.Values{"confirm": {"yes"}})
	if done.Status != http.StatusSeeOther {
		t.Fatalf("confirmed clear: %d", done.Status)
	}
	if d.SecretOf(ws).IsSet() {
		t.Fatal("secret still set")
	}
	if got := d.PostHook(ws, "to-be-cleared-1234"); got != http.StatusServiceUnavailable {
		t.Fatalf("webhook after clear: %d, want 503", got)
	}
	if d.C.Follow(done).Doc.Find("#secret-missing").Length() != 1 {
		t.Fatal("page does not say the secret is missing")
	}
}

func TestSettingsWorkspaceIsolation(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	settings := d.C.MustSignIn()
	d.C.SaveSecret(settings, "secret-of-default-ws")

	for _, bad := range []string{"", "  ", strings.Repeat("n", 101)} {
		p := d.C.Submit(settings, "#workspace-form", url.Values{"name": {bad}})
		if p.Status != http.StatusUnprocessableEntity || p.Doc.Find("#workspace-form #workspace-name-error").Length() != 1 {
			t.Fatalf("name %q: %d", bad, p.Status)
		}
	}
	created := d.C.Submit(settings, "#workspace-form", url.Values{"name": {"Staging"}})
	if created.Status != http.StatusSeeOther {
		t.Fatalf("create workspace: %d: %s", created.Status, created.Body)
	}
	staging := d.Workspace(context.Background(), "Staging")
	p := d.C.Follow(created)
	if p.Text("#workspace-name") != "Staging" {
		t.Fatalf("not switched to the new workspace: %q", p.Text("#workspace-name"))
	}
	if got := p.Attr("#webhook-url", "value"); got != "http://inlet.test/api/public/webhooks/segment?workspaceId="+staging.ID.String() {
		t.Fatalf("staging webhook URL %q", got)
	}
	if got := p.Attr(`#ws-select option[selected]`, "value"); got != staging.ID.String() {
		t.Fatalf("switcher shows %q selected", got)
	}
	if p.Doc.Find("#secret-missing").Length() != 1 {
		t.Fatal("the new workspace shows a secret")
	}
	d.C.SaveSecret(p, "secret-of-staging-ws")

	if got := d.PostHook(staging, "secret-of-default-ws"); got != http.StatusUnauthorized {
		t.Fatalf("default's secret on staging's webhook: %d, want 401", got)
	}
	if got := d.PostHook(d.DefaultWS(), "secret-of-staging-ws"); got != http.StatusUnauthorized {
		t.Fatalf("staging's secret on default's webhook: %d, want 401", got)
	}
	if got := d.PostHook(staging, "secret-of-staging-ws"); got != http.StatusOK {
		t.Fatalf("staging's own secret: %d", got)
	}

	// The session remembers the choice; ?ws= switches back.
	if got := d.C.Get("/dashboard/settings").Text("#workspace-name"); got != "Staging" {
		t.Fatalf("remembered workspace %q", got)
	}
	back := d.C.Get("/dashboard/settings?ws=" + d.DefaultWS().ID.String())
	if back.Text("#workspace-name") != "Default" || back.Text("#secret-last4") != "…t-ws" {
		t.Fatalf("switch back: %q %q", back.Text("#workspace-name"), back.Text("#secret-last4"))
	}
	if got := d.C.Get("/dashboard/settings?ws=not-a-uuid").Text("#workspace-name"); got != "Default" {
		t.Fatalf("bad ?ws= gave %q", got)
	}
}

func TestSettingsSendTestEvent(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ws := d.DefaultWS()
	settings := d.C.MustSignIn()
	if settings.Doc.Find("#test-event-form").Length() != 0 {
		t.Fatal("test button offered without a secret")
	}
	p := d.C.SaveSecret(settings, "test-event-secret")
	for i := 1; i <= 2; i++ { // unique messageId: the second is stored too, not a duplicate
		r := d.C.Submit(p, "#test-event-form", nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("send: %d", r.Status)
		}
		p = d.C.Follow(r)
		if !strings.Contains(p.Attr("#flash", "class"), "flash-success") || !strings.Contains(p.Text("#flash"), `"accepted":1`) {
			t.Fatalf("flash after test event %d: %q", i, p.Text("#flash"))
		}
		n, err := d.St.CountEvents(context.Background(), ws.ID)
		if err != nil || n != int64(i) {
			t.Fatalf("events stored after %d test events: %d (%v)", i, n, err)
		}
	}
}
