package dashboard_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestE2EAdminManagesWriteKeys is what an admin does in a real browser to
// let an app send: create a key, copy it, later revoke it (answering the
// browser's confirmation), and the key stops at once.
func TestE2EAdminManagesWriteKeys(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := webtest.Chrome(t)

	// Accept every confirmation dialog, keeping its text for the checks.
	dialogs := make(chan string, 4)
	opening := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	go func() {
		for ev, err := range opening {
			if err != nil {
				return
			}
			dialogs <- ev.Message
			go func() {
				_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}()

	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#http-api-source")),
	)
	webtest.Step(t, ctx, "create a key",
		chromedp.SendKeys(webtest.CSS("#write-key-name"), "checkout-service"),
		chromedp.Click(webtest.CSS(`#write-key-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#new-key")),
	)
	key := webtest.Read(t, ctx, "new key", chromedp.Value(webtest.CSS("#new-key")))
	if len(key) < 26 {
		t.Fatalf("new key %q", key)
	}
	if snippet := webtest.Read(t, ctx, "snippet", chromedp.Text(webtest.CSS("#snippet-node"))); !strings.Contains(snippet, "writeKey: '"+key+"'") {
		t.Fatalf("the analytics-node snippet does not carry the key: %q", snippet)
	}
	webtest.Step(t, ctx, "copy it",
		chromedp.Click(webtest.CSS(`button[data-copy="#new-key"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy="#new-key"]').textContent === "Copied"`),
	)
	if os.Getenv("INLET_SCREENSHOTS") != "" {
		webtest.Shot(t, ctx, d.URL+"/dashboard/settings", "#http-api-source", "http-api.png")
	}
	if got := d.SendWithKey(key, "e2e-before"); got != http.StatusOK {
		t.Fatalf("the new key is refused: %d", got)
	}

	webtest.Step(t, ctx, "revoke it",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#write-keys")),
		chromedp.Click(webtest.CSS("#write-keys tbody tr:first-child details.revoke-key summary")),
		chromedp.Click(webtest.CSS(`#write-keys tbody tr:first-child input[name="confirm"]`)),
		chromedp.Click(webtest.CSS(`#write-keys tbody tr:first-child .revoke-key-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#write-keys .badge-err")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "checkout-service") {
			t.Errorf("confirmation said %q", msg)
		}
	default:
		t.Error("revoking asked for no confirmation")
	}
	if flash := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS("#flash"))); !strings.Contains(flash, "revoked") {
		t.Errorf("flash after revoke: %q", flash)
	}
	if got := d.SendWithKey(key, "e2e-after"); got != http.StatusUnauthorized {
		t.Fatalf("the revoked key still works: %d", got)
	}
}
