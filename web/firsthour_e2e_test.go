package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/chromedp/chromedp"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// TestE2EEventsPageFirstHour is the events page as an admin meets it in a
// real browser: rows visible under a compact filter bar at 1280×900, filters
// that ignore case, a count, ids that filter by themselves, a bad date that
// shows only its field error, and cards on a 390 px phone.
func TestE2EEventsPageFirstHour(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := webtest.Chrome(t)
	def := d.DefaultWS()
	k, _, err := d.St.CreateWriteKey(context.Background(), def.ID, "checkout-service")
	if err != nil {
		t.Fatal(err)
	}
	webtest.StoreEvents(t, d.St, def.ID, 30, func(i int, e *store.NewEvent) {
		e.Type, e.Event = "track", "Order Completed"
		e.UserID, e.AnonymousID = fmt.Sprintf("User-%d", i%3), "anon-7f3c2a9e-41d2-4b8e-9a51-0c7d2e6b1f00"
		if i%2 == 1 { // the newest (29) among them
			e.Source, e.SourceKey = "http_api", k.ID.String()
		}
	})
	signInBrowser(t, ctx, d)

	webtest.Step(t, ctx, "events page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(d.URL+"/dashboard/events"),
		chromedp.WaitVisible(webtest.CSS("#events")))
	visible := webtest.Read(t, ctx, "rows in view", chromedp.Evaluate[int](
		`[...document.querySelectorAll("#events tr.event-row")].filter(r => r.getBoundingClientRect().bottom <= window.innerHeight).length`))
	if visible < 5 {
		t.Fatalf("only %d event rows visible at 1280×900", visible)
	}
	if src := webtest.Read(t, ctx, "source", chromedp.Text(webtest.CSS("#events tbody.event:first-of-type .event-source"))); src != "HTTP API · checkout-service ("+k.Prefix+"…)" {
		t.Fatalf("source column %q", src)
	}
	if strings.Contains(webtest.Read(t, ctx, "page text", chromedp.Text(webtest.CSS("#events"))), k.ID.String()) {
		t.Fatal("the events page shows a key's internal id")
	}
	if n := webtest.Read(t, ctx, "count", chromedp.Text(webtest.CSS("#event-count"))); n != "30 events match" {
		t.Fatalf("count %q", n)
	}

	webtest.Step(t, ctx, "filter ignoring case",
		chromedp.SendKeys(webtest.CSS("#f-event"), "order completed"),
		chromedp.Click(webtest.CSS(`#events-filter button[type="submit"]`)))
	// The page before the click has #event-count too: wait for the new one.
	waitNewPage(t, ctx, "event=order")
	if n := webtest.Read(t, ctx, "count", chromedp.Text(webtest.CSS("#event-count"))); n != "30 events match" {
		t.Fatalf("lower-case event name: %q", n)
	}
	webtest.Step(t, ctx, "click a user id",
		chromedp.Click(webtest.CSS(`#events a.user-id`)))
	waitNewPage(t, ctx, "user=User-")
	if u := webtest.Read(t, ctx, "user filter", chromedp.Value(webtest.CSS("#f-user"))); !strings.HasPrefix(u, "User-") {
		t.Fatalf("user filter after the click: %q", u)
	}
	if n := webtest.Read(t, ctx, "count", chromedp.Text(webtest.CSS("#event-count"))); n != "10 events match" {
		t.Fatalf("after clicking a user id: %q", n)
	}
	webtest.Step(t, ctx, "user filter ignores case",
		chromedp.Navigate(d.URL+"/dashboard/events?user=user-1"), chromedp.WaitVisible(webtest.CSS("#event-count")))
	if n := webtest.Read(t, ctx, "count", chromedp.Text(webtest.CSS("#event-count"))); n != "10 events match" {
		t.Fatalf("user-1 for User-1: %q", n)
	}

	webtest.Step(t, ctx, "bad date", chromedp.Navigate(d.URL+"/dashboard/events?from=yesterday"), chromedp.WaitVisible(webtest.CSS("#f-from-error")))
	if n := webtest.Read(t, ctx, "no-events", chromedp.Evaluate[int](`document.querySelectorAll("#no-events, #events").length`)); n != 0 {
		t.Fatal("a bad date also shows the list or \"No events match\"")
	}

	if os.Getenv("INLET_SCREENSHOTS") != "" {
		webtest.Shot(t, ctx, d.URL+"/dashboard/events", "#events", "events-1280.png")
	}

	// A phone: every event a card, nothing off screen, no word broken that
	// would fit on a line of its own.
	webtest.Step(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(d.URL+"/dashboard/events"), chromedp.WaitVisible(webtest.CSS("#events")))
	if w := webtest.Read(t, ctx, "page width", chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Fatalf("the page is %d px wide on a 390 px screen", w)
	}
	off := webtest.Read(t, ctx, "off screen", chromedp.Evaluate[[]string](`[...document.querySelectorAll("main a, main button, main input, main select, #events td")]
		.filter(el => el.offsetParent !== null && el.getBoundingClientRect().right > 390.5)
		.map(el => el.tagName + "." + el.className + " " + Math.round(el.getBoundingClientRect().right))`))
	if len(off) > 0 {
		t.Fatalf("off screen at 390 px: %v", off)
	}
	if disp := webtest.Read(t, ctx, "card", chromedp.Evaluate[string](`getComputedStyle(document.querySelector("#events tbody.event")).display`)); disp != "block" {
		t.Fatalf("rows are not cards on a phone: display %q", disp)
	}
	broken := webtest.Read(t, ctx, "broken words", chromedp.Evaluate[[]string](`(() => {
		const out = [];
		const walk = document.createTreeWalker(document.querySelector("#events"), NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			if (n.parentElement.closest("details:not([open])")) continue;
			const re = /\S+/g; let m;
			while ((m = re.exec(n.data))) {
				const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
				const rects = [...r.getClientRects()].filter(x => x.width > 0);
				const lines = new Set(rects.map(x => Math.round(x.top)));
				// A word wider than its whole line has to break; any other may not.
				const width = rects.reduce((w, x) => w + x.width, 0);
				if (lines.size > 1 && width <= n.parentElement.closest("td, div, p").clientWidth) out.push(m[0]);
			}
		}
		return out;
	})()`))
	if len(broken) > 0 {
		t.Fatalf("words broken across lines at 390 px: %v", broken)
	}
	if os.Getenv("INLET_SCREENSHOTS") != "" {
		phoneShot(t, ctx, d.URL+"/dashboard/events", "events-390.png")
	}
}

// TestE2ESettingsFirstHour: a write key created by post/redirect/get, shown
// once at the top of its section, a harmless reload, and a status panel that
// keeps refreshing and names each delivery's source and credential.
func TestE2ESettingsFirstHour(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{Env: map[string]string{"BASE_URL": "http://localhost:8080"}})
	ctx := webtest.Chrome(t)
	ws := d.DefaultWS()
	if err := d.St.SetSecret(context.Background(), ws.ID, "first-secret-0123456789", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := d.St.SetSecret(context.Background(), ws.ID, "second-secret-012345678", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, d)
	webtest.Step(t, ctx, "create a key", chromedp.EmulateViewport(1280, 900),
		chromedp.WaitVisible(webtest.CSS("#write-key-name")),
		chromedp.SendKeys(webtest.CSS("#write-key-name"), "checkout-service"),
		chromedp.Click(webtest.CSS(`#write-key-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#new-key")))
	loc := webtest.Read(t, ctx, "url", chromedp.Location())
	if !strings.Contains(loc, "/dashboard/settings?ws=") || !strings.HasSuffix(loc, "#http-api-source") {
		t.Fatalf("after creating a key the browser is at %q", loc)
	}
	top := webtest.Read(t, ctx, "notice position", chromedp.Evaluate[float64](`document.querySelector("#new-write-key").getBoundingClientRect().top`))
	if top < 0 || top > 900 {
		t.Fatalf("the new key's notice is at %.0f px, not in view", top)
	}
	key := webtest.Read(t, ctx, "key", chromedp.Value(webtest.CSS("#new-key")))
	webtest.Step(t, ctx, "copy", chromedp.Click(webtest.CSS(`button[data-copy="#new-key"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy="#new-key"]').textContent === "Copied"`))

	// The status panel keeps refreshing on this page: a call with the new
	// key appears without a reload, named by source and key.
	if got := d.SendWithKey(key, "e2e-status"); got != http.StatusOK {
		t.Fatalf("the new key: %d", got)
	}
	webtest.Step(t, ctx, "delivery appears", chromedp.Poll[chromedp.Void](
		`[...document.querySelectorAll("#recent-deliveries .delivery-credential")].some(td => td.textContent.includes("checkout-service"))`,
		chromedp.WithPollingTimeout(20*time.Second)))
	if src := webtest.Read(t, ctx, "source", chromedp.Text(webtest.CSS("#recent-deliveries tbody tr:first-child .delivery-source"))); src != "HTTP API" {
		t.Fatalf("delivery source %q", src)
	}
	if os.Getenv("INLET_SCREENSHOTS") != "" {
		webtest.Shot(t, ctx, loc, "#http-api-source", "settings-new-key.png")
	}

	webtest.Step(t, ctx, "reload", chromedp.Reload(), chromedp.WaitVisible(webtest.CSS("#write-keys")))
	if n := webtest.Read(t, ctx, "after reload", chromedp.Evaluate[int](`document.querySelectorAll("#new-key").length + 10 * document.querySelectorAll("#write-keys tbody tr").length`)); n != 10 {
		t.Fatalf("after a reload: the key shown again or duplicated (%d)", n)
	}
	if keys, err := d.St.WriteKeys(context.Background(), ws.ID); err != nil || len(keys) != 1 {
		t.Fatalf("%d keys stored after a reload (%v)", len(keys), err)
	}
	if !strings.Contains(webtest.Read(t, ctx, "reach", chromedp.Text(webtest.CSS("#base-url-unreachable"))), "Segment cannot reach this URL") {
		t.Fatal("no notice that Segment cannot reach localhost")
	}
	if n := webtest.Read(t, ctx, "secrets", chromedp.Evaluate[int](`document.querySelectorAll("#secrets tr.secret-previous .revoke-secret-form").length`)); n != 1 {
		t.Fatalf("%d previous secrets with a Revoke button, want 1", n)
	}
	if os.Getenv("INLET_SCREENSHOTS") != "" {
		webtest.Shot(t, ctx, d.URL+"/dashboard/settings", "#segment-source", "settings.png")
	}
}

// TestE2ESessionEndedReturnsToThePage: the session ends while the admin
// works; the sign-in page says so and leads back.
func TestE2ESessionEndedReturnsToThePage(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := webtest.Chrome(t)
	signInBrowser(t, ctx, d)
	far := time.Now().Add(365 * 24 * time.Hour)
	if _, err := d.St.DeleteSessionsBefore(context.Background(), far, far); err != nil {
		t.Fatal(err)
	}
	webtest.Step(t, ctx, "open a filtered page", chromedp.Navigate(d.URL+"/dashboard/events?event=Signup"), chromedp.WaitVisible(webtest.CSS("#login-notice")))
	webtest.Step(t, ctx, "sign in again",
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#events-filter")))
	if v := webtest.Read(t, ctx, "event filter", chromedp.Value(webtest.CSS("#f-event"))); v != "Signup" {
		t.Fatalf("back on the events page with event=%q", v)
	}
}

// waitNewPage waits until the page the browser navigated to has loaded and
// its query has want. Asking while the old page is torn down fails (the
// execution context is gone), so failures are retried until the deadline.
func waitNewPage(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	testutil.WaitWithin(t, 20*time.Second, "a page with "+strconv.Quote(want)+" in its query", func() bool {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](
			`document.readyState === "complete" && location.search.includes(`+strconv.Quote(want)+`) && !!document.getElementById("event-count")`))
		return err == nil && ok
	})
}

func signInBrowser(t *testing.T, ctx context.Context, d *webtest.Dash) {
	t.Helper()
	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#segment-source")))
}

// phoneShot is shot at 390 px wide.
func phoneShot(t *testing.T, ctx context.Context, url, name string) {
	t.Helper()
	webtest.Step(t, ctx, "open "+url, chromedp.EmulateViewport(390, 844), chromedp.Navigate(url), chromedp.WaitVisible(webtest.CSS("main")))
	png := webtest.Read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile("../docs/screenshots/"+name, png, 0o644); err != nil {
		t.Fatal(err)
	}
}
