package web_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestE2EAdminManagesWriteKeys is what an admin does in a real browser to
// let an app send: create a key, copy it, later revoke it (answering the
// browser's confirmation), and the key stops at once.
func TestE2EAdminManagesWriteKeys(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	ctx := newChrome(t)

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

	step(t, ctx, "sign in",
		chromedp.Navigate(d.url+"/dashboard/settings"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#http-api-source")),
	)
	step(t, ctx, "create a key",
		chromedp.SendKeys(css("#write-key-name"), "checkout-service"),
		chromedp.Click(css(`#write-key-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#new-key")),
	)
	key := read(t, ctx, "new key", chromedp.Value(css("#new-key")))
	if len(key) < 26 {
		t.Fatalf("new key %q", key)
	}
	if snippet := read(t, ctx, "snippet", chromedp.Text(css("#snippet-node"))); !strings.Contains(snippet, "writeKey: '"+key+"'") {
		t.Fatalf("the analytics-node snippet does not carry the key: %q", snippet)
	}
	step(t, ctx, "copy it",
		chromedp.Click(css(`button[data-copy="#new-key"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy="#new-key"]').textContent === "Copied"`),
	)
	if os.Getenv("INLET_SCREENSHOTS") != "" {
		shot(t, ctx, d.url+"/dashboard/settings", "#http-api-source", "http-api.png")
	}
	if got := d.sendWithKey(key, "e2e-before"); got != http.StatusOK {
		t.Fatalf("the new key is refused: %d", got)
	}

	step(t, ctx, "revoke it",
		chromedp.Navigate(d.url+"/dashboard/settings"),
		chromedp.WaitVisible(css("#write-keys")),
		chromedp.Click(css("#write-keys tbody tr:first-child details.revoke-key summary")),
		chromedp.Click(css(`#write-keys tbody tr:first-child input[name="confirm"]`)),
		chromedp.Click(css(`#write-keys tbody tr:first-child .revoke-key-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#write-keys .badge-err")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "checkout-service") {
			t.Errorf("confirmation said %q", msg)
		}
	default:
		t.Error("revoking asked for no confirmation")
	}
	if flash := read(t, ctx, "flash", chromedp.Text(css("#flash"))); !strings.Contains(flash, "revoked") {
		t.Errorf("flash after revoke: %q", flash)
	}
	if got := d.sendWithKey(key, "e2e-after"); got != http.StatusUnauthorized {
		t.Fatalf("the revoked key still works: %d", got)
	}
}
