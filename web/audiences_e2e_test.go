package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/inlet-dev/inlet/internal/testdb"
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
	st := testdb.Open(t)
	a := startAudienceServer(t, st)
	now := time.Now().UTC()
	a.hook(
		map[string]any{"type": "identify", "userId": "ann", "messageId": "i1", "timestamp": now.Format(time.RFC3339Nano), "traits": map[string]any{"plan": "pro"}},
		map[string]any{"type": "identify", "userId": "bob", "messageId": "i2", "timestamp": now.Format(time.RFC3339Nano), "traits": map[string]any{"plan": "free"}},
	)
	ctx := newChrome(t)
	step(t, ctx, "sign in",
		chromedp.Navigate(a.url+"/dashboard/audiences/new"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#audience-form")),
	)
	step(t, ctx, "a trait condition, with its live count",
		chromedp.SendKeys(css("#audience-key"), "pro_buyers"),
		chromedp.SendKeys(css("#audience-name"), "Pro buyers"),
		typeInto("#builder input.trait-path", 0, "plan"),
		typeInto("#builder input.trait-value", 0, "pro"),
		// The profiles follower may still be applying ann's identify.
		chromedp.Poll[chromedp.Void](`document.getElementById("preview-count").dataset.count === "1" ||
			(document.getElementById("audience-name").dispatchEvent(new Event("input")) && false)`, chromedp.WithPollingInterval(300*time.Millisecond)),
	)
	step(t, ctx, "all of: the trait and an order in the last 7 days",
		setSelect("#builder select.node-kind", 0, "all"),
		chromedp.WaitVisible(css("#builder .node-all")),
		typeInto("#builder input.trait-path", 0, "plan"),
		typeInto("#builder input.trait-value", 0, "pro"),
		chromedp.Click(css("#builder .node-add")),
		setSelect("#builder .node-children > li:nth-child(2) select.node-kind", 0, "performed"),
		chromedp.WaitVisible(css("#builder input.performed-event")),
		typeInto("#builder input.performed-event", 0, "Order Completed"),
		typeInto("#builder input.performed-within", 0, "7d"),
		chromedp.Poll[chromedp.Void](`document.getElementById("preview-count").dataset.count === "0"`),
	)
	def := read(t, ctx, "the JSON view", chromedp.Value(css("#audience-json")))
	for _, want := range []string{`"all"`, `"trait": "plan"`, `"value": "pro"`, `"event": "Order Completed"`, `"within": "7d"`} {
		if !strings.Contains(def, want) {
			t.Fatalf("the builder's JSON lacks %s:\n%s", want, def)
		}
	}
	step(t, ctx, "save",
		chromedp.Click(css("#audience-save")),
		chromedp.WaitVisible(css("#members-section")),
	)
	waitPage(t, ctx, a.url+"/dashboard/audiences/pro_buyers", `document.getElementById("audience-build").textContent.trim() === "ready"`)

	a.hook(map[string]any{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o1", "timestamp": now.Format(time.RFC3339Nano)})
	waitPage(t, ctx, a.url+"/dashboard/audiences/pro_buyers",
		`[...document.querySelectorAll("#audience-members .audience-member a")].some(a => a.textContent.trim() === "ann")`)
	if got := read(t, ctx, "transition", chromedp.Text(css("#audience-transitions .audience-transition"))); !strings.Contains(got, "entered") || !strings.Contains(got, "o1") {
		t.Fatalf("recent transition: %q", got)
	}
	step(t, ctx, "ann's profile lists the audience with why",
		chromedp.Click(css("#audience-members .audience-member a")),
		chromedp.WaitVisible(css(`#profile-audiences li[data-key="pro_buyers"]`)),
		chromedp.Click(css(`#profile-audiences li[data-key="pro_buyers"] summary`)),
		chromedp.WaitVisible(css(`.explain-tree > li[data-type="all"][data-result="true"] li[data-type="performed"][data-result="true"]`)),
	)
}

// waitPage reloads url until the condition holds: the engine works in the
// background, and the page shows what is stored when it is loaded.
func waitPage(t *testing.T, ctx context.Context, url, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok := false
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := chromedp.Do(sctx, chromedp.Navigate(url), chromedp.WaitReady(css("body")))
		if err == nil {
			ok, err = chromedp.Run(sctx, chromedp.Evaluate[bool](cond))
		}
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s never held (%v)", url, cond, err)
		}
	}
}
