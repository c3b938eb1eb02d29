package webtest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlet-dev/inlet/internal/testutil"
)

const chromiumPath = "/usr/bin/chromium"

// CSS names a CSS selector (a plain string would be a DOM text search).
type CSS = chromedp.CSS

// Chrome starts a real headless Chromium, or skips when none is installed
// (fails under CI=true, where it must be).
func Chrome(t testing.TB) context.Context {
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

// Step runs browser actions with a deadline of their own.
func Step(t testing.TB, ctx context.Context, name string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, testutil.Patience(20*time.Second))
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// Read runs one action that returns a value.
func Read[T any](t testing.TB, ctx context.Context, name string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, testutil.Patience(20*time.Second))
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// Shot takes a full-page PNG. With INLET_SCREENSHOTS=1 it refreshes
// docs/screenshots (for the README); otherwise it goes to a temp dir, so a
// test run leaves the work tree clean.
func Shot(t testing.TB, ctx context.Context, url, waitFor, name string) {
	t.Helper()
	Step(t, ctx, "open "+url, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(url), chromedp.WaitVisible(CSS(waitFor)))
	png := Read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if len(png) < 1000 {
		t.Fatalf("screenshot %s is only %d bytes", name, len(png))
	}
	dir := t.TempDir()
	if os.Getenv("INLET_SCREENSHOTS") == "1" {
		dir = ScreenshotDir(t)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ScreenshotDir is docs/screenshots of the repository, wherever the test runs.
func ScreenshotDir(t testing.TB) string {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("webtest: cannot find its own source file")
	}
	return filepath.Join(filepath.Dir(self), "..", "..", "docs", "screenshots")
}
