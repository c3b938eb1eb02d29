package dashboard_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/chromedp/chromedp"
)

// TestE2EAdminConnectsSegment is what an admin does the first time: sign in,
// generate and save a secret, and watch a signed event arrive.
func TestE2EAdminConnectsSegment(t *testing.T) {
	t.Parallel()
	// The public URL an operator would set; plain-HTTP cookies because the
	// browser talks to the test server on 127.0.0.1.
	d := webtest.StartDashboard(t, webtest.DashOptions{Env: map[string]string{"BASE_URL": "https://inlet.example.com", "COOKIE_SECURE": "false"}})
	ctx := webtest.Chrome(t)

	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#segment-source")),
	)

	webtest.Step(t, ctx, "generate a secret",
		chromedp.WaitVisible(webtest.CSS(`button[data-generate-secret="#secret"]`)),
		chromedp.Click(webtest.CSS(`button[data-generate-secret="#secret"]`)),
	)
	secret := webtest.Read(t, ctx, "read the secret", chromedp.Value(webtest.CSS("#secret")))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(secret) {
		t.Fatalf("generated secret %q is not 32 random bytes in hex", secret)
	}
	if got := webtest.Read(t, ctx, "toggle", chromedp.Text(webtest.CSS(`button[data-toggle-password="#secret"]`))); got != "Hide" {
		t.Errorf("generated secret is not shown for copying (toggle says %q)", got)
	}

	webtest.Step(t, ctx, "save it",
		chromedp.Click(webtest.CSS(`#secret-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#secret-last4")),
	)
	flash := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS("#flash")))
	last4 := webtest.Read(t, ctx, "last4", chromedp.Text(webtest.CSS("#secret-last4")))
	if !strings.Contains(flash, "saved") || last4 != "…"+secret[60:] {
		t.Fatalf("after saving: flash %q, last4 %q", flash, last4)
	}
	if html := webtest.Read(t, ctx, "page", chromedp.OuterHTML(webtest.CSS("html"))); strings.Contains(html, secret) {
		t.Fatal("the saved secret is in the page")
	}

	// Segment delivers an event, signed with the secret the admin pasted.
	if got := d.PostHook(d.DefaultWS(), secret); got != 200 {
		t.Fatalf("signed webhook: %d", got)
	}
	webtest.Step(t, ctx, "status updates in place, without a reload", chromedp.WaitVisible(webtest.CSS("#last-event strong")))
	if got := webtest.Read(t, ctx, "accepted", chromedp.Text(webtest.CSS("#hour-accepted"))); got != "1" {
		t.Fatalf("accepted in the last hour: %q", got)
	}

	webtest.Step(t, ctx, "send a test event",
		// Drop the old flash so waiting for #flash waits for the new page.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").remove()`),
		chromedp.Click(webtest.CSS(`#test-event-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#flash")),
	)
	if got := webtest.Read(t, ctx, "test flash", chromedp.Text(webtest.CSS("#flash"))); !strings.Contains(got, "Test event posted internally") || !strings.Contains(got, "answered 200") {
		t.Fatalf("test event flash %q", got)
	}
	webtest.Shot(t, ctx, d.URL+"/dashboard/settings", "#connection-status", "settings.png")

	webtest.Step(t, ctx, "events page", chromedp.Navigate(d.URL+"/dashboard/events"), chromedp.WaitVisible(webtest.CSS("#events tr.event-row")))
	if n := webtest.Read(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#events tr.event-row").length`)); n != 2 {
		t.Fatalf("%d events listed, want 2 (the webhook's and the test event)", n)
	}
	if names := webtest.Read(t, ctx, "names", chromedp.Text(webtest.CSS("#events"))); !strings.Contains(names, "Checkout Started") {
		t.Fatalf("the tracked event is not listed: %q", names)
	}
	webtest.Shot(t, ctx, d.URL+"/dashboard/events", "#events", "events.png")

	// Readable at 375 px: nothing wider than the screen.
	for _, path := range []string{"/dashboard/settings", "/dashboard/events", "/login"} {
		webtest.Step(t, ctx, "375 px "+path, chromedp.EmulateViewport(375, 800), chromedp.Navigate(d.URL+path), chromedp.WaitReady(webtest.CSS("body")))
		if w := webtest.Read(t, ctx, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
			t.Errorf("%s is %d px wide on a 375 px screen", path, w)
		}
	}
}
