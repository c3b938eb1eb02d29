package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

// TestE2EAdminSeesAJourneyRun: a journey (written through the store, as
// the API does) runs for an event an app sends; in a real browser the admin
// sees the journey's counts move, the message in the log with the SMTP
// server's reply, the step counts, the profile's journeys and messages, and
// a template preview for the user.
func TestE2EAdminSeesAJourneyRun(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	bg := context.Background()
	mailer := smtptest.Start(t)
	st := d.St
	if err := st.SaveEmailSettings(bg, d.WS.ID, store.EmailSettings{Host: mailer.Host, Port: mailer.Port, TLSMode: config.TLSNone,
		FromAddress: "shop@example.com"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEmailTemplate(bg, d.WS.ID, store.EmailTemplate{Key: "welcome", Subject: "Welcome {{ user.traits.plan }}",
		HTML: "<p>Hi {{ user.traits.email }}</p>"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSubscriptionGroup(bg, d.WS.ID, store.SubscriptionGroup{Key: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	def := `{"key":"welcome_series","name":"Welcome series","trigger":{"event":{"event":"Signed Up"}},"steps":[{"id":"hello","email":{"template":"welcome","group":"news"}},{"id":"pause","wait":"1h"}]}`
	if _, err := st.CreateJourney(bg, d.WS.ID, "welcome_series", def, true); err != nil {
		t.Fatal(err)
	}
	if err := journeys.Prime(bg, st, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	eng := journeys.New(st, &email.Service{Store: st, BaseURL: "http://inlet.test"}, journeys.Options{Poll: 50 * time.Millisecond, BehindProfiles: true})
	eng.Start(bg)
	t.Cleanup(eng.Close)

	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/dashboard/journeys"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS(`tr[data-journey="welcome_series"]`)),
	)
	if got := webtest.Read(t, ctx, "entered", chromedp.Text(webtest.CSS(`tr[data-journey="welcome_series"] [data-count="entered"]`))); got != "0" {
		t.Fatalf("entered %q before any event", got)
	}
	d.send(ev("identify", "j-1", "2026-04-01T09:00:00Z", `"userId":"user-j","traits":{"email":"grace@example.com","plan":"team"}`),
		ev("track", "j-2", "2026-04-01T09:01:00Z", `"userId":"user-j","event":"Signed Up"`))
	mailer.WaitFor(t, 1, 20*time.Second)
	// Wait on observable state: the log records the send right after DATA.
	testutil.WaitWithin(t, 20*time.Second, "the send logged", func() bool {
		ms, err := st.Messages(bg, d.WS.ID, store.MessageFilter{Status: "sent", Limit: 1})
		return err == nil && len(ms) == 1
	})
	webtest.Step(t, ctx, "the journey's counts moved and the message is in the log",
		chromedp.Navigate(d.URL+"/dashboard/messages"),
		chromedp.WaitVisible(webtest.CSS(`#messages td.msg-status[data-status="sent"]`)),
	)
	if got := webtest.Read(t, ctx, "reply", chromedp.Text(webtest.CSS(`#messages code.reply`))); !strings.HasPrefix(got, "250") {
		t.Errorf("reply %q", got)
	}
	webtest.Step(t, ctx, "the journeys list",
		chromedp.Navigate(d.URL+"/dashboard/journeys"),
		chromedp.WaitVisible(webtest.CSS(`tr[data-journey="welcome_series"]`)),
	)
	if got := webtest.Read(t, ctx, "entered", chromedp.Text(webtest.CSS(`tr[data-journey="welcome_series"] [data-count="entered"]`))); got != "1" {
		t.Errorf("entered %q, want 1", got)
	}
	webtest.Step(t, ctx, "the journey's page counts its steps",
		chromedp.Click(webtest.CSS(`tr[data-journey="welcome_series"] a`)),
		chromedp.WaitVisible(webtest.CSS(`li[data-step="pause"]`)),
	)
	if got := webtest.Read(t, ctx, "waiting at pause", chromedp.Text(webtest.CSS(`li[data-step="pause"] [data-count="waiting"]`))); got != "1" {
		t.Errorf("waiting at pause %q, want 1", got)
	}
	if got := webtest.Read(t, ctx, "sent by hello", chromedp.Text(webtest.CSS(`li[data-step="hello"] [data-count="sent"]`))); got != "1" {
		t.Errorf("sent by hello %q, want 1", got)
	}
	webtest.Step(t, ctx, "the profile lists the journey and the message",
		chromedp.Navigate(d.URL+"/dashboard/users/user-j"),
		chromedp.WaitVisible(webtest.CSS(`#journeys-section li[data-journey="welcome_series"]`)),
		chromedp.WaitVisible(webtest.CSS(`#messages td.msg-status[data-status="sent"]`)),
	)
	if got := webtest.Read(t, ctx, "profile journey", chromedp.Text(webtest.CSS(`#journeys-section li[data-journey="welcome_series"]`))); !strings.Contains(got, "active at pause") {
		t.Errorf("profile journey %q", got)
	}
	webtest.Step(t, ctx, "preview a template for the user",
		chromedp.Navigate(d.URL+"/dashboard/templates"),
		chromedp.WaitVisible(webtest.CSS("#preview-form")),
		chromedp.SendKeys(webtest.CSS("#preview-user"), "user-j"),
		chromedp.Click(webtest.CSS("#preview-button")),
		chromedp.WaitVisible(webtest.CSS("#preview-subject")),
	)
	if got := webtest.Read(t, ctx, "preview subject", chromedp.Text(webtest.CSS("#preview-subject"))); got != "Welcome team" {
		t.Errorf("preview subject %q", got)
	}
}
