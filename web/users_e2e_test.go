package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestE2EAdminFindsAndErasesAUser is the profile layer as an admin meets it
// in a real browser: create an API token, an app sends identify and track
// with a write key, the admin finds the user by email, reads their traits,
// and deletes them with suppression (answering the browser's confirmation);
// the API then says the user is erased and suppressed.
func TestE2EAdminFindsAndErasesAUser(t *testing.T) {
	d := startProfileDashboard(t)
	ctx := newChrome(t)
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
		chromedp.WaitVisible(css("#api-tokens")),
	)
	step(t, ctx, "create an API token",
		chromedp.SendKeys(css("#api-token-name"), "crm-sync"),
		chromedp.SetValue(css("#api-token-scope"), "write"),
		// The token works through this day (UTC): the date field.
		chromedp.SetValue(css("#api-token-expires"), time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")),
		chromedp.Click(css(`#api-token-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#new-token")),
		chromedp.Click(css(`button[data-copy="#new-token"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy="#new-token"]').textContent === "Copied"`),
	)
	token := read(t, ctx, "new token", chromedp.Value(css("#new-token")))
	if !strings.HasPrefix(token, "inlet_") {
		t.Fatalf("new token %q", token)
	}
	// After a reload the list is there and the token is not (the step
	// times out if the reloaded page shows it again).
	step(t, ctx, "reload: the token is not shown again", chromedp.Reload(),
		chromedp.Poll[chromedp.Void](`document.readyState === "complete" && !!document.getElementById("api-token-list") && !document.getElementById("new-token")`))
	// The list shows the expiry: the end of the chosen day, UTC.
	wantExp := time.Now().UTC().AddDate(0, 0, 31).Format("2006-01-02") + "T00:00:00Z"
	if got := read(t, ctx, "token expiry", chromedp.AttributeValue(css("#api-token-list .token-expires time"), "datetime")); got.Value != wantExp {
		t.Errorf("token expiry shown: %q, want %q", got.Value, wantExp)
	}

	d.send(
		ev("identify", "e2e-1", "2026-04-01T09:00:00Z", `"userId":"user-e2e","anonymousId":"anon-e2e","traits":{"email":"grace@example.com","plan":"team"}`),
		ev("track", "e2e-2", "2026-04-01T09:05:00Z", `"userId":"user-e2e","event":"Report Exported"`),
	)
	apiGet := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, d.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := apiGet("/api/v1/users/user-e2e"); code != 200 || !strings.Contains(body, "grace@example.com") {
		t.Fatalf("API with the token made in the browser: %d %s", code, body)
	}

	step(t, ctx, "find the user by email",
		chromedp.Click(css(`nav a[href="/dashboard/users"]`)),
		chromedp.WaitVisible(css("#users-search")),
		chromedp.SendKeys(css("#users-q"), "grace@example.com"),
		chromedp.Click(css(`#users-search button[type="submit"]`)),
		// Only a search's results carry the "matched" badge: waiting for it
		// waits for the new page, not the list it replaces.
		chromedp.WaitVisible(css("#users .user-row .badge")),
		chromedp.Click(css("#users a.user-link")),
		chromedp.WaitVisible(css("#traits")),
	)
	if got := read(t, ctx, "email trait", chromedp.Text(css(`#traits tr[data-key="email"] .trait-value`))); got != `"grace@example.com"` {
		t.Errorf("email trait shows %q", got)
	}
	if got := read(t, ctx, "identities", chromedp.Text(css("#identities"))); !strings.Contains(got, "anon-e2e") {
		t.Errorf("identities: %q", got)
	}
	step(t, ctx, "expand an event",
		chromedp.Click(css("#timeline tr.event-raw summary")),
		chromedp.WaitVisible(css("#timeline pre.raw-json")),
	)

	step(t, ctx, "delete with suppression",
		chromedp.Click(css("#delete-details summary")),
		chromedp.WaitVisible(css("#delete-confirm")),
		chromedp.Click(css("#delete-confirm")),
		chromedp.Click(css("#delete-submit")),
		chromedp.WaitVisible(css("#suppressed")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "user-e2e") {
			t.Errorf("confirmation said %q", msg)
		}
	default:
		t.Error("deleting asked for no confirmation")
	}
	if flash := read(t, ctx, "flash", chromedp.Text(css("#flash"))); !strings.Contains(flash, "2 events") {
		t.Errorf("flash %q", flash)
	}
	if code, body := apiGet("/api/v1/users/user-e2e"); code != 404 || !strings.Contains(body, `"suppressed":true`) {
		t.Errorf("API after erasure: %d %s", code, body)
	}
	step(t, ctx, "lift the suppression",
		// Drop the old flash so waiting for #flash waits for the new page.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").remove()`),
		chromedp.Click(css(`#unsuppress-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#flash")),
	)
	if flash := read(t, ctx, "flash", chromedp.Text(css("#flash"))); !strings.Contains(flash, "lifted") {
		t.Errorf("flash after lifting %q", flash)
	}
	if n := read(t, ctx, "suppressed notice", chromedp.Evaluate[int](`document.querySelectorAll("#suppressed").length`)); n != 0 {
		t.Error("still shown as suppressed after lifting")
	}
	for _, path := range []string{"/dashboard/users", "/dashboard/users/user-e2e"} {
		step(t, ctx, "375 px "+path, chromedp.EmulateViewport(375, 800), chromedp.Navigate(d.url+path), chromedp.WaitReady(css("body")))
		if w := read(t, ctx, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
			t.Errorf("%s is %d px wide on a 375 px screen", path, w)
		}
	}
}
