package dashboard_test

import (
	"bytes"
	"context"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/web/webtest"
)

// An admin saves the workspace's SMTP settings (the password stored
// encrypted, never shown again) and sends a test email that a real SMTP
// server receives; the page shows the server's reply.
func TestSettingsEmailSaveAndSendTest(t *testing.T) {
	t.Parallel()
	mailer := smtptest.Start(t)
	st := testdb.Open(t)
	d := webtest.StartDashboard(t, webtest.DashOptions{St: st, Env: map[string]string{"ENCRYPTION_KEY": "test-encryption-key-with-enough-length",
		"EMAIL_FREQUENCY_CAP": "3/1d"}})
	p := d.C.MustSignIn()
	p = d.C.Get("/dashboard/settings")
	if p.Doc.Find("#settings-nav a[href='#email']").Length() != 1 || p.Doc.Find("section#email").Length() != 1 {
		t.Fatal("no #email section in the section navigation")
	}
	if got := p.Attr("#email-cap", "placeholder"); got != "3 per 24h0m0s" {
		t.Errorf("cap placeholder %q", got)
	}
	// A refused field is shown next to it; nothing is stored.
	bad := d.C.Submit(p, "#email-form", url.Values{"host": {"127.0.0.1"}, "port": {"99999"}, "tls_mode": {"none"}})
	if bad.Status != 422 || bad.Text("#email-port-error") == "" {
		t.Fatalf("bad port: %d %q", bad.Status, bad.Text("#email-port-error"))
	}
	const password = "smtp-pass-w0rd-xyz"
	saved := d.C.Follow(d.C.Submit(p, "#email-form", url.Values{"host": {mailer.Host}, "port": {strconv.Itoa(mailer.Port)},
		"tls_mode": {"none"}, "username": {""}, "password": {password}, "from_name": {"Acme"},
		"from_address": {"news@acme.test"}, "reply_to": {"help@acme.test"}, "frequency_cap": {"2/1h"}}))
	if !strings.Contains(saved.Text("#flash"), "Email settings saved") {
		t.Fatalf("flash %q", saved.Text("#flash"))
	}
	if bytes.Contains(saved.Body, []byte(password)) {
		t.Fatal("the page shows the SMTP password")
	}
	if saved.Attr("#email-password", "placeholder") == "" || saved.Attr("#email-host", "value") != mailer.Host {
		t.Errorf("saved form: host %q, password placeholder %q", saved.Attr("#email-host", "value"), saved.Attr("#email-password", "placeholder"))
	}
	ws := d.DefaultWS()
	own, err := st.EmailSettings(context.Background(), ws.ID)
	if err != nil || own.Password != password || own.FrequencyCap != "2/1h" {
		t.Fatalf("stored settings: %+v %v", own, err)
	}
	// Saving again with an empty password keeps it.
	d.C.Submit(saved, "#email-form", url.Values{"host": {mailer.Host}, "port": {strconv.Itoa(mailer.Port)}, "tls_mode": {"none"},
		"from_address": {"news@acme.test"}, "password": {""}})
	if own, _ := st.EmailSettings(context.Background(), ws.ID); own.Password != password {
		t.Fatal("an empty password field dropped the saved password")
	}

	sent := d.C.Follow(d.C.Submit(saved, "#email-test-form", url.Values{"to": {"ann@example.org"}}))
	flash := sent.Text("#flash")
	if !strings.Contains(flash, "Test email sent to ann@example.org") || !strings.Contains(flash, "The server answered: 250") {
		t.Fatalf("flash %q", flash)
	}
	m := mailer.WaitFor(t, 1, 10*time.Second)[0]
	if m.To[0] != "ann@example.org" || m.From != "news@acme.test" || m.Msg.Header.Get("Subject") != "Inlet test email" {
		t.Errorf("received %s → %v %q", m.From, m.To, m.Msg.Header.Get("Subject"))
	}

	// A refusal is shown as the server said it.
	mailer.Refuse("gone@example.org", 550, "mailbox unavailable")
	refused := d.C.Follow(d.C.Submit(saved, "#email-test-form", url.Values{"to": {"gone@example.org"}}))
	if f := refused.Text("#flash"); !strings.Contains(f, "550") || !strings.Contains(f, "mailbox unavailable") {
		t.Errorf("refusal flash %q", f)
	}
}
