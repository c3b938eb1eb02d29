package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

// setSelect chooses an option of the n-th select matching sel the way a
// person does (the change event fires).
func setSelect(sel string, n int, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelectorAll(` + quoteJS(sel) + `)[` + itoa(n) + `];
		s.value = ` + quoteJS(value) + `; s.dispatchEvent(new Event("change", {bubbles: true})); })()`)
}

func quoteJS(s string) string { return "`" + strings.ReplaceAll(s, "`", "\\`") + "`" }

func itoa(n int) string { return string(rune('0' + n)) }

// typeInto types into the n-th input matching sel.
func typeInto(sel string, n int, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const i = document.querySelectorAll(` + quoteJS(sel) + `)[` + itoa(n) + `];
		i.focus(); i.value = ` + quoteJS(text) + `; i.dispatchEvent(new Event("input", {bubbles: true})); })()`)
}

// TestE2EAdminBuildsAnAudienceAndWatchesAUserEnter: the admin builds
// "pro users who completed an order in the last 7 days" in the form, sees
// the live preview count, saves it; an order arrives through the webhook
// and the user shows up among the members, and on their profile page with
// the explain tree.
func TestE2EAdminBuildsAnAudienceAndWatchesAUserEnter(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	a := webtest.StartAudiences(t, st)
	now := time.Now().UTC()
	a.Hook(
		map[string]any{"type": "identify", "userId": "ann", "messageId": "i1", "timestamp": now.Format(time.RFC3339Nano), "traits": map[string]any{"plan": "pro"}},
		map[string]any{"type": "identify", "userId": "bob", "messageId": "i2", "timestamp": now.Format(time.RFC3339Nano), "traits": map[string]any{"plan": "free"}},
	)
	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(a.URL+"/dashboard/audiences/new"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#audience-form")),
	)
	webtest.Step(t, ctx, "a trait condition, with its live count before the audience is named",
		typeInto("#builder input.trait-path", 0, "plan"),
		typeInto("#builder input.trait-value", 0, "pro"),
		// The profiles follower may still be applying ann's identify.
		chromedp.Poll[chromedp.Void](`document.getElementById("preview-count").dataset.count === "1" ||
			(document.getElementById("audience-name").dispatchEvent(new Event("input")) && false)`, chromedp.WithPollingInterval(300*time.Millisecond)),
		chromedp.SendKeys(webtest.CSS("#audience-key"), "pro_buyers"),
		chromedp.SendKeys(webtest.CSS("#audience-name"), "Pro buyers"),
	)
	webtest.Step(t, ctx, "all of: the trait and an order in the last 7 days",
		setSelect("#builder select.node-kind", 0, "all"),
		chromedp.WaitVisible(webtest.CSS("#builder .node-all")),
		typeInto("#builder input.trait-path", 0, "plan"),
		typeInto("#builder input.trait-value", 0, "pro"),
		chromedp.Click(webtest.CSS("#builder .node-add")),
		setSelect("#builder .node-children > li:nth-child(2) select.node-kind", 0, "performed"),
		chromedp.WaitVisible(webtest.CSS("#builder input.performed-event")),
		typeInto("#builder input.performed-event", 0, "Order Completed"),
		typeInto("#builder input.performed-within", 0, "7d"),
		chromedp.Poll[chromedp.Void](`document.getElementById("preview-count").dataset.count === "0"`),
	)
	def := webtest.Read(t, ctx, "the JSON view", chromedp.Value(webtest.CSS("#audience-json")))
	for _, want := range []string{`"all"`, `"trait": "plan"`, `"value": "pro"`, `"event": "Order Completed"`, `"within": "7d"`} {
		if !strings.Contains(def, want) {
			t.Fatalf("the builder's JSON lacks %s:\n%s", want, def)
		}
	}
	webtest.Step(t, ctx, "save",
		chromedp.Click(webtest.CSS("#audience-save")),
		chromedp.WaitVisible(webtest.CSS("#members-section")),
	)
	waitPage(t, ctx, a.URL+"/dashboard/audiences/pro_buyers", `document.getElementById("audience-build").textContent.trim() === "ready"`)

	a.Hook(map[string]any{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o1", "timestamp": now.Format(time.RFC3339Nano)})
	waitPage(t, ctx, a.URL+"/dashboard/audiences/pro_buyers",
		`[...document.querySelectorAll("#audience-members .audience-member a")].some(a => a.textContent.trim() === "ann")`)
	if got := webtest.Read(t, ctx, "transition", chromedp.Text(webtest.CSS("#audience-transitions .audience-transition"))); !strings.Contains(got, "entered") || !strings.Contains(got, "o1") {
		t.Fatalf("recent transition: %q", got)
	}
	webtest.Step(t, ctx, "ann's profile lists the audience with why",
		chromedp.Click(webtest.CSS("#audience-members .audience-member a")),
		chromedp.WaitVisible(webtest.CSS(`#profile-audiences li[data-key="pro_buyers"]`)),
		chromedp.Click(webtest.CSS(`#profile-audiences li[data-key="pro_buyers"] summary`)),
		chromedp.WaitVisible(webtest.CSS(`.explain-tree > li[data-type="all"][data-result="true"] li[data-type="performed"][data-result="true"]`)),
	)
}

// waitPage reloads url until the condition holds: the engine works in the
// background, and the page shows what is stored when it is loaded.
func waitPage(t *testing.T, ctx context.Context, url, cond string) {
	t.Helper()
	var last error
	if !testutil.Eventually(30*time.Second, func() bool {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		ok := false
		last = chromedp.Do(sctx, chromedp.Navigate(url), chromedp.WaitReady(webtest.CSS("body")))
		if last == nil {
			ok, last = chromedp.Run(sctx, chromedp.Evaluate[bool](cond))
		}
		return last == nil && ok
	}) {
		t.Fatalf("%s: %s never held (%v)", url, cond, last)
	}
}
