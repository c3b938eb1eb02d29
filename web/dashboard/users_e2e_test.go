package dashboard_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestE2EAdminFindsAndErasesAUser is the profile layer as an admin meets it
// in a real browser: create an API token, an app sends identify and track
// with a write key, the admin finds the user by email, reads their traits,
// and deletes them with suppression (answering the browser's confirmation);
// the API then says the user is erased and suppressed.
func TestE2EAdminFindsAndErasesAUser(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := webtest.Chrome(t)
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
		chromedp.WaitVisible(webtest.CSS("#api-tokens")),
	)
	webtest.Step(t, ctx, "create an API token",
		chromedp.SendKeys(webtest.CSS("#api-token-name"), "crm-sync"),
		chromedp.SetValue(webtest.CSS("#api-token-scope"), "write"),
		// The token works through this day (UTC): the date field.
		chromedp.SetValue(webtest.CSS("#api-token-expires"), time.Now().UTC().AddDate(0, 0, 30).Format("2006-01-02")),
		chromedp.Click(webtest.CSS(`#api-token-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#new-token")),
		chromedp.Click(webtest.CSS(`button[data-copy="#new-token"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy="#new-token"]').textContent === "Copied"`),
	)
	token := webtest.Read(t, ctx, "new token", chromedp.Value(webtest.CSS("#new-token")))
	if !strings.HasPrefix(token, "inlet_") {
		t.Fatalf("new token %q", token)
	}
	// After a reload the list is there and the token is not (the step
	// times out if the reloaded page shows it again).
	webtest.Step(t, ctx, "reload: the token is not shown again", chromedp.Reload(),
		chromedp.Poll[chromedp.Void](`document.readyState === "complete" && !!document.getElementById("api-token-list") && !document.getElementById("new-token")`))
	// The list shows the expiry: the end of the chosen day, UTC.
	wantExp := time.Now().UTC().AddDate(0, 0, 31).Format("2006-01-02") + "T00:00:00Z"
	if got := webtest.Read(t, ctx, "token expiry", chromedp.AttributeValue(webtest.CSS("#api-token-list .token-expires time"), "datetime")); got.Value != wantExp {
		t.Errorf("token expiry shown: %q, want %q", got.Value, wantExp)
	}

	d.send(
		ev("identify", "e2e-1", "2026-04-01T09:00:00Z", `"userId":"user-e2e","anonymousId":"anon-e2e","traits":{"email":"grace@example.com","plan":"team"}`),
		ev("track", "e2e-2", "2026-04-01T09:05:00Z", `"userId":"user-e2e","event":"Report Exported"`),
	)
	apiGet := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, d.URL+path, nil)
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

	webtest.Step(t, ctx, "find the user by email",
		chromedp.Click(webtest.CSS(`nav a[href="/dashboard/users"]`)),
		chromedp.WaitVisible(webtest.CSS("#users-search")),
		chromedp.SendKeys(webtest.CSS("#users-q"), "grace@example.com"),
		chromedp.Click(webtest.CSS(`#users-search button[type="submit"]`)),
		// Only a search's results carry the "matched" badge: waiting for it
		// waits for the new page, not the list it replaces.
		chromedp.WaitVisible(webtest.CSS("#users .user-row .badge")),
		chromedp.Click(webtest.CSS("#users a.user-link")),
		chromedp.WaitVisible(webtest.CSS("#traits")),
	)
	if got := webtest.Read(t, ctx, "email trait", chromedp.Text(webtest.CSS(`#traits tr[data-key="email"] .trait-value`))); got != "grace@example.com" {
		t.Errorf("email trait shows %q", got)
	}
	if got := webtest.Read(t, ctx, "identities", chromedp.Text(webtest.CSS("#identities"))); !strings.Contains(got, "anon-e2e") {
		t.Errorf("identities: %q", got)
	}
	webtest.Step(t, ctx, "expand an event",
		chromedp.Click(webtest.CSS("#timeline tr.event-raw summary")),
		chromedp.WaitVisible(webtest.CSS("#timeline pre.raw-json")),
	)

	// What will go is stated before anything goes: the exact number of
	// events (the ones listed above) and every userId of the profile.
	if got := webtest.Read(t, ctx, "erasure scope", chromedp.Text(webtest.CSS("#delete-scope"))); !strings.Contains(got, "2 events") || !strings.Contains(got, "user-e2e") {
		t.Errorf("the confirmation states %q", got)
	}
	webtest.Step(t, ctx, "delete with suppression",
		chromedp.Click(webtest.CSS("#delete-details summary")),
		chromedp.WaitVisible(webtest.CSS("#delete-confirm")),
		chromedp.Click(webtest.CSS("#delete-confirm")),
		chromedp.Click(webtest.CSS("#delete-submit")),
		chromedp.WaitVisible(webtest.CSS("#suppressed")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "user-e2e") || !strings.Contains(msg, "2 events") {
			t.Errorf("confirmation said %q", msg)
		}
	default:
		t.Error("deleting asked for no confirmation")
	}
	if flash := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS("#flash"))); !strings.Contains(flash, "2 events") {
		t.Errorf("flash %q", flash)
	}
	if code, body := apiGet("/api/v1/users/user-e2e"); code != 404 || !strings.Contains(body, `"suppressed":true`) {
		t.Errorf("API after erasure: %d %s", code, body)
	}
	webtest.Step(t, ctx, "lift the suppression",
		// Drop the old flash so waiting for #flash waits for the new page.
		chromedp.Evaluate[chromedp.Void](`document.getElementById("flash").remove()`),
		chromedp.Click(webtest.CSS(`#unsuppress-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#flash")),
	)
	if flash := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS("#flash"))); !strings.Contains(flash, "lifted") {
		t.Errorf("flash after lifting %q", flash)
	}
	if n := webtest.Read(t, ctx, "suppressed notice", chromedp.Evaluate[int](`document.querySelectorAll("#suppressed").length`)); n != 0 {
		t.Error("still shown as suppressed after lifting")
	}
	for _, path := range []string{"/dashboard/users", "/dashboard/users/user-e2e"} {
		webtest.Step(t, ctx, "375 px "+path, chromedp.EmulateViewport(375, 800), chromedp.Navigate(d.URL+path), chromedp.WaitReady(webtest.CSS("body")))
		if w := webtest.Read(t, ctx, "width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 375 {
			t.Errorf("%s is %d px wide on a 375 px screen", path, w)
		}
	}
}
