package dashboard_test

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
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

// TestE2EServerKeyMergesAndClientKeyIsRefused: an admin creates a server
// write key in a real browser; its alias merges two users, while a client
// key's alias of two users is refused, and the admin sees "merge refused"
// on the profile page; a key's kind can be changed back.
func TestE2EServerKeyMergesAndClientKeyIsRefused(t *testing.T) {
	d := startProfileDashboard(t)
	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#http-api-source")),
	)
	webtest.Step(t, ctx, "create a server key",
		chromedp.SendKeys(webtest.CSS("#write-key-name"), "backend"),
		chromedp.Click(webtest.CSS("#write-key-kind-server")),
		chromedp.Click(webtest.CSS(`#write-key-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#new-key")),
	)
	key := webtest.Read(t, ctx, "new key", chromedp.Value(webtest.CSS("#new-key")))
	id := webtest.Read(t, ctx, "new key's row", chromedp.Evaluate[string](
		`[...document.querySelectorAll('#write-keys tr[data-key-id]')].find(r => r.querySelector('.key-name').textContent.trim() === 'backend').dataset.keyId`))
	kind := func() string {
		return strings.TrimSpace(webtest.Read(t, ctx, "kind", chromedp.Text(webtest.CSS("#write-key-"+id+" .key-kind .badge"))))
	}
	if k := kind(); k != "server" {
		t.Fatalf("the new key's kind is %q, want server", k)
	}

	base := d.URL
	postWithKey(t, base, "/v1/batch", key, `{"batch":[`+strings.Join([]string{
		ev("identify", "s-1", "2026-01-01T10:00:00Z", `"userId":"ann"`),
		ev("identify", "s-2", "2026-01-01T10:00:01Z", `"userId":"ann-new"`),
		ev("alias", "s-3", "2026-01-01T10:00:02Z", `"previousId":"ann","userId":"ann-new"`),
	}, ",")+`]}`)
	postWithKey(t, base, "/v1/batch", d.writeKey, `{"batch":[`+strings.Join([]string{
		ev("identify", "c-1", "2026-01-01T10:00:00Z", `"userId":"carol"`),
		ev("identify", "c-2", "2026-01-01T10:00:01Z", `"userId":"dave"`),
		ev("alias", "c-3", "2026-01-01T10:00:02Z", `"previousId":"carol","userId":"dave"`),
	}, ",")+`]}`)
	if _, err := d.follower.CatchUp(context.Background(), d.WS.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := d.St.ProfileByIdentity(context.Background(), d.WS.ID, store.IdentityUser, "ann"); err != nil || p.Key != "u:ann-new" {
		t.Errorf("the server key's alias: ann in %q, %v; want u:ann-new", p.Key, err)
	}

	webtest.Step(t, ctx, "open carol's page",
		chromedp.Navigate(d.URL+"/dashboard/users/carol"),
		chromedp.WaitVisible(webtest.CSS("#merge-refusals")),
	)
	if txt := webtest.Read(t, ctx, "refusal", chromedp.Text(webtest.CSS("#merge-refusals li.merge-refusal"))); !strings.Contains(txt, "merge refused") || !strings.Contains(txt, "dave") {
		t.Errorf("carol's page: %q", txt)
	}
	webtest.Step(t, ctx, "follow it to dave",
		chromedp.Click(webtest.CSS("#merge-refusals a.merge-refusal-other")),
		chromedp.WaitVisible(webtest.CSS(`#merge-refusals li.merge-refusal[data-other="carol"]`)),
	)

	webtest.Step(t, ctx, "make the key a client key",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#write-key-"+id)),
		chromedp.Click(webtest.CSS("#make-client-"+id)),
		chromedp.WaitVisible(webtest.CSS("#make-server-"+id)),
	)
	if k := kind(); k != "client" {
		t.Errorf("after the change the kind is %q", k)
	}
}
