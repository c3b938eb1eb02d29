package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

// waitJS waits, without reloading, until the page's JavaScript condition
// holds: what a page's own script changes is observable state.
func waitJS(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	var last error
	if !testutil.Eventually(30*time.Second, func() bool {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ok := false
		ok, last = chromedp.Run(sctx, chromedp.Evaluate[bool](cond))
		return last == nil && ok
	}) {
		t.Fatalf("%s: %s never held (%v)", what, cond, last)
	}
}

// press clicks the element through the DOM: a full-page screenshot leaves
// the page's metrics such that a mouse click can miss.
func press(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + quoteJS(sel) + `).click()`)
}

func textIs(sel, want string) string {
	return `(() => { const e = document.querySelector(` + quoteJS(sel) + `); return !!e && e.textContent.trim() === ` + quoteJS(want) + `; })()`
}

// TestE2EAdminBuildsAJourneyInTheEditor: in a real browser the admin writes
// a template in the form, builds a journey in the JSON editor (an error
// shows as they type, with its path; they fix it), saves and enables it; an
// event arrives through the signed webhook; without reloading, the
// journey's page shows the step counts move; the messages log shows the
// email the real SMTP server accepted. Every page fits 390 px.
func TestE2EAdminBuildsAJourneyInTheEditor(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	bg := context.Background()
	const secret = "whsec-journey-editor-test"
	if err := d.St.SetSecret(bg, d.WS.ID, secret, "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := d.St.CreateSubscriptionGroup(bg, d.WS.ID, store.SubscriptionGroup{Key: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	mailer := runJourneys(t, d)

	ctx := webtest.Chrome(t)
	phone := chromedp.EmulateViewport(390, 844) // again after each screenshot, which resizes the page
	webtest.Step(t, ctx, "sign in and write a template",
		phone,
		chromedp.Navigate(d.URL+"/dashboard/templates"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#new-template")),
		chromedp.Click(webtest.CSS("#new-template")),
		chromedp.WaitVisible(webtest.CSS("#template-form")),
		chromedp.SendKeys(webtest.CSS("#template-key"), "welcome"),
		typeInto("#template-subject", 0, "Welcome {{ user.traits.plan }}"),
		typeInto("#template-html", 0, "<p>Hi {{ user.traits.email }}</p>"),
	)
	checkFits(t, ctx, "template form")
	shot390(t, ctx, "template-form-390.png")
	webtest.Step(t, ctx, "save the template", phone,
		press("#template-save"),
		chromedp.WaitVisible(webtest.CSS("#template-preview-form")),
	)
	if got := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS(".flash"))); !strings.Contains(got, "Template welcome saved") {
		t.Errorf("flash %q", got)
	}

	def := func(template string) string {
		return `{
  "key": "welcome_series",
  "name": "Welcome series",
  "trigger": {"event": {"event": "Signed Up"}},
  "steps": [
    {"id": "hello", "email": {"template": "` + template + `", "group": "news"}},
    {"id": "check", "branch": {"if": {"trait": "plan", "op": "eq", "value": "pro"}, "then": [], "else": [
      {"id": "pause", "wait": "1h"}
    ]}}
  ]
}`
	}
	webtest.Step(t, ctx, "open the editor and type a journey with a mistake",
		chromedp.Click(webtest.CSS("#nav-journeys")),
		chromedp.WaitVisible(webtest.CSS("#new-journey")),
		chromedp.Click(webtest.CSS("#new-journey")),
		chromedp.WaitVisible(webtest.CSS("#journey-json")),
		typeInto("#journey-json", 0, def("welcom")),
	)
	waitJS(t, ctx, "the as-you-type error", textIs("#journey-error-path", "steps[0].email.template"))
	checkFits(t, ctx, "journey editor")
	shot390(t, ctx, "journey-editor-error-390.png")
	webtest.Step(t, ctx, "fix it, save and enable", phone,
		typeInto("#journey-json", 0, def("welcome")),
	)
	waitJS(t, ctx, "the fix is seen as valid", textIs("#journey-ok", "Valid: 3 steps."))
	webtest.Step(t, ctx, "save and enable",
		press("#journey-save"),
		chromedp.WaitVisible(webtest.CSS("#journey-enable")),
		chromedp.Click(webtest.CSS("#journey-enable")),
		chromedp.WaitVisible(webtest.CSS("#journey-enabled")),
		chromedp.WaitVisible(webtest.CSS(`li[data-step="check"] li[data-step="pause"]`)),
	)
	checkFits(t, ctx, "journey page")
	if got := webtest.Read(t, ctx, "entered", chromedp.Text(webtest.CSS(`#journey-counts [data-count="entered"]`))); got != "0" {
		t.Fatalf("entered %q before any event", got)
	}

	// An app's events arrive through the signed webhook, while the page stays open.
	postSigned(t, d.URL, d.WS, secret, ev("identify", "e-1", "2026-04-01T09:00:00Z", `"userId":"ann","traits":{"email":"ann@example.com","plan":"team"}`))
	postSigned(t, d.URL, d.WS, secret, ev("track", "e-2", "2026-04-01T09:01:00Z", `"userId":"ann","event":"Signed Up"`))
	if _, err := d.follower.CatchUp(bg, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	mails := mailer.WaitFor(t, 1, 30*time.Second)
	if !strings.Contains(mails[0].Msg.Header.Get("Subject"), "Welcome team") {
		t.Errorf("mail subject %q", mails[0].Msg.Header.Get("Subject"))
	}
	waitJS(t, ctx, "the counts moved without a reload", `(() => {
		const q = s => (document.querySelector(s) || {}).textContent;
		return q('#journey-counts [data-count="entered"]') === "1" && q('#journey-counts [data-count="active"]') === "1" &&
			q('li[data-step="hello"] > .step-box [data-count="passed"]') === "1" && q('li[data-step="hello"] > .step-box [data-count="sent"]') === "1" &&
			q('li[data-step="pause"] > .step-box [data-count="waiting"]') === "1";
	})()`)
	shot390(t, ctx, "journey-390.png")

	// The list refreshes itself too: a second user signs up while it is open.
	webtest.Step(t, ctx, "the list", phone,
		chromedp.Navigate(d.URL+"/dashboard/journeys"),
		chromedp.WaitVisible(webtest.CSS(`tr[data-journey="welcome_series"]`)),
	)
	checkFits(t, ctx, "journeys list", "#journeys table")
	if got := webtest.Read(t, ctx, "entered", chromedp.Text(webtest.CSS(`tr[data-journey="welcome_series"] [data-count="entered"]`))); got != "1" {
		t.Fatalf("list entered %q", got)
	}
	postSigned(t, d.URL, d.WS, secret, ev("identify", "e-3", "2026-04-01T09:02:00Z", `"userId":"bob","traits":{"email":"bob@example.com","plan":"pro"}`))
	postSigned(t, d.URL, d.WS, secret, ev("track", "e-4", "2026-04-01T09:03:00Z", `"userId":"bob","event":"Signed Up"`))
	if _, err := d.follower.CatchUp(bg, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the list's counts moved without a reload", textIs(`tr[data-journey="welcome_series"] [data-count="entered"]`, "2"))

	mailer.WaitFor(t, 2, 30*time.Second)
	testutil.WaitWithin(t, 30*time.Second, "both sends logged", func() bool {
		ms, err := d.St.Messages(bg, d.WS.ID, store.MessageFilter{Status: "sent", Limit: 10})
		return err == nil && len(ms) == 2
	})
	webtest.Step(t, ctx, "the message is in the log", phone,
		press("#nav-messages"),
		chromedp.WaitVisible(webtest.CSS(`#messages td.msg-status[data-status="sent"]`)),
	)
	checkFits(t, ctx, "messages log", "#messages table")
	shot390(t, ctx, "messages-390.png")
	if n := webtest.Read(t, ctx, "sent rows", chromedp.Evaluate[int](`document.querySelectorAll('#messages td.msg-status[data-status="sent"]').length`)); n != 2 {
		t.Errorf("%d sent rows, want 2", n)
	}
	row := webtest.Read(t, ctx, "log row", chromedp.Text(webtest.CSS(`#messages tbody tr:last-child`)))
	for _, want := range []string{"ann", "ann@example.com", "welcome_series", "hello", "welcome", "sent", "250"} {
		if !strings.Contains(row, want) {
			t.Errorf("log row %q lacks %q", row, want)
		}
	}
	webtest.Step(t, ctx, "the profile", phone,
		chromedp.Navigate(d.URL+"/dashboard/users/ann"),
		chromedp.WaitVisible(webtest.CSS(`#journeys-section li[data-journey="welcome_series"]`)),
	)
	checkFits(t, ctx, "profile", "#messages table")
}
