package web_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// css names a CSS selector (a plain string would be a DOM text search).
type css = chromedp.CSS

// newChrome starts a real headless Chromium, or skips when none is
// installed (fails under CI=true, where it must be).
func newChrome(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is missing: apt-get install -y chromium", chromiumPath)
		}
		t.Skipf("skipping the browser test: %s not found (apt-get install -y chromium)", chromiumPath)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first call starts the browser; it must not carry a step's timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs browser actions with a deadline of their own.
func step(t *testing.T, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// read runs one action that returns a value.
func read[T any](t *testing.T, ctx context.Context, name string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// TestE2EAdminConnectsSegment is what an admin does the first time: sign in,
// generate and save a secret, and watch a signed event arrive.
func TestE2EAdminConnectsSegment(t *testing.T) {
	// The public URL an operator would set; plain-HTTP cookies because the
	// browser talks to the test server on 127.0.0.1.
	d := startDashboard(t, dashOptions{env: map[string]string{"BASE_URL": "https://inlet.example.com", "COOKIE_SECURE": "false"}})
	ctx := newChrome(t)

	step(t, ctx, "sign in",
		chromedp.Navigate(d.url+"/dashboard/settings"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#segment-source")),
	)

	step(t, ctx, "generate a secret",
		chromedp.WaitVisible(css(`button[data-generate-secret="#secret"]`)),
		chromedp.Click(css(`button[data-generate-secret="#secret"]`)),
	)
	secret := read(t, ctx, "read the secret", chromedp.Value(css("#secret")))
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(secret) {
		t.Fatalf("generated secret %q is not 32 random bytes in hex", secret)
	}
	if got := read(t, ctx, "toggle", chromedp.Text(css(`button[data-toggle-password="#secret"]`))); got != "Hide" {
		t.Errorf("generated secret is not shown for copying (toggle says %q)", got)
	}

	step(t, ctx, "save it",
		chromedp.Click(css(`#secret-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#secret-last4")),
	)
	flash := read(t, ctx, "flash", chromedp.Text(css("#flash")))
	last4 := read(t, ctx, "last4", chromedp.Text(css("#secret-last4")))
	if !strings.Contains(flash, "saved") || last4 != "…"+secret[60:] {
		t.Fatalf("after saving: flash %q, last4 %q", flash, last4)
	}
	if html := read(t, ctx, "page", chromedp.OuterHTML(css("html"))); strings.Contains(html, secret) {
		t.Fatal("the saved secret is in the page")
	}

	// Segment delivers an event, signed with the secret the admin pasted.
	if got := d.postHook(d.defaultWS(), secret); got != 200 {
		t.Fatalf("signed webhook: %d", got)
	}
	step(t, ctx, "status updates in place, without a reload", chromedp.WaitVisible(css("#last-event strong")))
	if got := read(t, ctx, "accepted", chromedp.Text(css("#hour-accepted"))); got != "1" {
		t.Fatalf("accepted in the last hour: %q", got)
	}

	step(t, ctx, "send a test event",
		// Drop the old flash so waiting for #flash waits for the new page.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").remove()`),
		chromedp.Click(css(`#test-event-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#flash")),
	)
	if got := read(t, ctx, "test flash", chromedp.Text(css("#flash"))); !strings.Contains(got, "Test event posted internally") || !strings.Contains(got, "answered 200") {
		t.Fatalf("test event flash %q", got)
	}
	shot(t, ctx, d.url+"/dashboard/settings", "#connection-status", "settings.png")

	step(t, ctx, "events page", chromedp.Navigate(d.url+"/dashboard/events"), chromedp.WaitVisible(css("#events tr.event-row")))
	if n := read(t, ctx, "rows", chromedp.Evaluate[int](`document.querySelectorAll("#events tr.event-row").length`)); n != 2 {
		t.Fatalf("%d events listed, want 2 (the webhook's and the test event)", n)
	}
	if names := read(t, ctx, "names", chromedp.Text(css("#events"))); !strings.Contains(names, "Checkout Started") {
		t.Fatalf("the tracked event is not listed: %q", names)
	}
	shot(t, ctx, d.url+"/dashboard/events", "#events", "events.png")

	// Readable at 375 px: nothing wider than the screen.
	for _, path := range []string{"/dashboard/settings", "/dashboard/events", "/login"} {
		step(t, ctx, "375 px "+path, chromedp.EmulateViewport(375, 800), chromedp.Navigate(d.url+path), chromedp.WaitReady(css("body")))
		if w := read(t, ctx, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
			t.Errorf("%s is %d px wide on a 375 px screen", path, w)
		}
	}
}

// shot takes a full-page PNG. With INLET_SCREENSHOTS=1 it refreshes
// docs/screenshots (for the README); otherwise it goes to a temp dir, so a
// test run leaves the work tree clean.
func shot(t *testing.T, ctx context.Context, url, waitFor, name string) {
	t.Helper()
	step(t, ctx, "open "+url, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url), chromedp.WaitVisible(css(waitFor)))
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if len(png) < 1000 {
		t.Fatalf("screenshot %s is only %d bytes", name, len(png))
	}
	dir := t.TempDir()
	if os.Getenv("INLET_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "docs", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
