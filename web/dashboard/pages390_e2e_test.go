package dashboard_test

import (
	"context"
	"fmt"
	"github.com/inlet-dev/inlet/web/webtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/store"
)

const (
	longUser = "user-2f9c1e7a-5b3d-4e8f-9a6c-1d2e3f4a5b6c"
	longAnon = "8d3e6f1a-7c2b-4d9e-a5f0-3b1c2d4e6f70"
)

// seed390 stores what the 390 px pages show: a profile with long ids and
// string, number, boolean and object traits, and a destination with attempts.
func seed390(t *testing.T, d *profileDash) store.Destination {
	t.Helper()
	d.send(
		ev("identify", "msg-"+uuid.NewString(), "2026-04-01T09:00:00Z",
			`"userId":"`+longUser+`","anonymousId":"`+longAnon+`","traits":{"email":"grace@example.com","plan":"team","seats":12,"beta":true,"zip":"01234","company":{"name":"Acme"}}`),
		ev("track", "msg-"+uuid.NewString(), "2026-04-01T09:05:00Z", `"userId":"`+longUser+`","event":"Report Exported"`),
	)
	ctx := context.Background()
	dest, err := d.St.CreateDestination(ctx, store.NewDestination{WorkspaceID: d.WS.ID, Name: "Warehouse", URL: "http://127.0.0.1:9/hook",
		Secret: "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := d.St.AddDestinationAttempt(ctx, dest.ID, store.DestinationAttempt{At: time.Now(), EventID: int64(i + 1),
			MessageID: "msg-" + uuid.NewString(), WebhookID: "msg_" + uuid.NewString(), Attempt: i + 1, Status: 503,
			Latency: 120 * time.Millisecond, Outcome: "retrying", Reason: "503 Service Unavailable",
			Response: `{"error":"the receiver is restarting, try again later"}`}); err != nil {
			t.Fatal(err)
		}
	}
	return dest
}

// fitsJS checks the tables named by the selectors at the current width: no
// cell reaches past the screen's right edge and nothing scrolls sideways.
const fitsJS = `(function (sels) {
  var bad = [];
  if (document.documentElement.scrollWidth > innerWidth) bad.push("page is " + document.documentElement.scrollWidth + " px wide");
  sels.forEach(function (sel) {
    var t = document.querySelector(sel);
    if (!t) { bad.push(sel + " missing"); return; }
    var wrap = t.closest(".table-wrap");
    if (wrap && wrap.scrollWidth > wrap.clientWidth + 1) bad.push(sel + " scrolls sideways (" + wrap.scrollWidth + " > " + wrap.clientWidth + ")");
    t.querySelectorAll("tbody td, tbody th").forEach(function (c) {
      var r = c.getBoundingClientRect();
      if (r.width > 0 && r.right > innerWidth + 0.5) bad.push(sel + " cell '" + c.textContent.trim().slice(0, 30) + "' ends at " + Math.round(r.right));
    });
  });
  return bad;
})(%s)`

// brokenIDsJS lists ids (the elements sel matches) that a line break cuts
// anywhere but after a hyphen, underscore, slash, dot, colon, @ or space.
const brokenIDsJS = `(function (sel) {
  var bad = [];
  document.querySelectorAll(sel).forEach(function (el) {
    if (!el.getClientRects().length) return;
    var walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), n, prevTop, prev;
    while ((n = walk.nextNode())) {
      // Within one text node: a new node may start a new line by layout.
      prevTop = null; prev = "";
      for (var i = 0; i < n.textContent.length; i++) {
        var r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
        var rects = r.getClientRects();
        if (!rects.length) continue;
        var top = Math.round(rects[0].top);
        if (prevTop !== null && top > prevTop + 2 && !/[-_\/.:@\s]/.test(prev)) bad.push(el.textContent.trim() + " (after '" + prev + "')");
        prevTop = top; prev = n.textContent[i];
      }
    }
  });
  return bad;
})(%q)`

func checkFits(t *testing.T, ctx context.Context, name string, sels ...string) {
	t.Helper()
	arr := "[]"
	if len(sels) > 0 {
		arr = `["` + strings.Join(sels, `","`) + `"]`
	}
	if bad := webtest.Read(t, ctx, "fit "+name, chromedp.Evaluate[[]string](fmt.Sprintf(fitsJS, arr))); len(bad) > 0 {
		t.Errorf("%s at 390 px: %s", name, strings.Join(bad, "; "))
	}
	if bad := webtest.Read(t, ctx, "ids "+name, chromedp.Evaluate[[]string](fmt.Sprintf(brokenIDsJS, ".id-text, .identity-id, .event-user, .trait-message"))); len(bad) > 0 {
		t.Errorf("%s at 390 px breaks ids mid-word: %s", name, strings.Join(bad, "; "))
	}
}

// shot390 saves a 390 px screenshot of the current page: into
// docs/screenshots with INLET_SCREENSHOTS=1, else a temp dir.
func shot390(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := webtest.Read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := t.TempDir()
	if os.Getenv("INLET_SCREENSHOTS") == "1" {
		dir = webtest.ScreenshotDir(t)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 19 item 19, as a person meets it on a 390 px phone: the Live,
// users, traits, identities and attempts tables show every column within
// the screen and break ids only between their parts; string traits read
// without JSON quotes; the delete confirmation asks only once "I
// understand" is ticked, and until then the error shows in view; the
// generated secret has a Copy button; "docs/api.md" is a link to the
// served docs.
func TestE2EPagesAt390(t *testing.T) {
	d := startProfileDashboard(t)
	dest := seed390(t, d)
	ctx := webtest.Chrome(t)
	dialogs := make(chan string, 4)
	go func() {
		for ev, err := range chromedp.Events(ctx, cdppage.JavascriptDialogOpening) {
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
		chromedp.WaitVisible(webtest.CSS("#segment-source")))
	phone := chromedp.EmulateViewport(390, 844)

	webtest.Step(t, ctx, "users list", phone, chromedp.Navigate(d.URL+"/dashboard/users"), chromedp.WaitVisible(webtest.CSS("#users")))
	checkFits(t, ctx, "users", "#users")
	shot390(t, ctx, "users-390.png")

	webtest.Step(t, ctx, "profile", phone, chromedp.Navigate(d.URL+"/dashboard/users/"+longUser), chromedp.WaitVisible(webtest.CSS("#traits")))
	checkFits(t, ctx, "profile", "#traits", "#identities")
	for key, want := range map[string]string{"email": "grace@example.com", "plan": "team", "zip": "01234", "seats": "12", "beta": "true", "company": `{"name":"Acme"}`} {
		got := webtest.Read(t, ctx, "trait "+key, chromedp.Text(webtest.CSS(`#traits tr[data-key="`+key+`"] .trait-value`)))
		if got != want {
			t.Errorf("trait %s shows %q, want %q", key, got, want)
		}
	}
	if n := webtest.Read(t, ctx, "json traits", chromedp.Evaluate[int](`document.querySelectorAll("#traits .trait-json").length`)); n != 3 {
		t.Errorf("%d traits marked as JSON values, want 3 (seats, beta, company)", n)
	}
	shot390(t, ctx, "profile-390.png")

	webtest.Step(t, ctx, "delete without ticking the box",
		chromedp.Click(webtest.CSS("#delete-details summary")),
		chromedp.WaitVisible(webtest.CSS("#delete-submit")),
		chromedp.Click(webtest.CSS("#delete-submit")),
		chromedp.WaitVisible(webtest.CSS("#delete-error")),
	)
	select {
	case msg := <-dialogs:
		t.Fatalf("a confirmation dialog opened before the box was ticked: %q", msg)
	default:
	}
	inView := webtest.Read(t, ctx, "error in view", chromedp.Evaluate[bool](
		`(function () { var r = document.getElementById("delete-error").getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; })()`))
	focused := webtest.Read(t, ctx, "focus", chromedp.Evaluate[string](`document.activeElement && document.activeElement.id`))
	if !inView || focused != "delete-confirm" {
		t.Errorf("the error is not in view (%v) or the box not focused (%q)", inView, focused)
	}
	shot390(t, ctx, "profile-delete-unticked-390.png")
	if n, err := d.St.CountEvents(context.Background(), d.WS.ID); err != nil || n != 2 {
		t.Fatalf("events after an unticked delete: %d %v", n, err)
	}
	webtest.Step(t, ctx, "tick, then delete",
		chromedp.Click(webtest.CSS("#delete-confirm")),
		chromedp.Click(webtest.CSS("#delete-submit")),
		chromedp.WaitVisible(webtest.CSS("#suppressed")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, longUser) {
			t.Errorf("confirmation said %q", msg)
		}
	default:
		t.Error("deleting with the box ticked asked for no confirmation")
	}

	webtest.Step(t, ctx, "destination attempts", phone, chromedp.Navigate(d.URL+"/dashboard/destinations/"+dest.ID.String()),
		chromedp.WaitVisible(webtest.CSS("#destination-attempts")))
	checkFits(t, ctx, "destination", "#destination-attempts")
	shot390(t, ctx, "destination-390.png")

	webtest.Step(t, ctx, "live", phone, chromedp.Navigate(d.URL+"/dashboard/events"),
		chromedp.WaitVisible(webtest.CSS("#live-toggle")),
		chromedp.Click(webtest.CSS("#live-toggle")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").textContent.startsWith("Live:")`),
	)
	mid := "live-" + uuid.NewString()
	if _, err := d.St.InsertEvents(context.Background(), []store.NewEvent{{WorkspaceID: d.WS.ID, MessageID: mid, Type: "track",
		Event: "Checkout Step Completed", AnonymousID: longAnon, ReceivedAt: time.Now(), Source: "webhook",
		Raw: []byte(`{"type":"track","messageId":"` + mid + `"}`)}}); err != nil {
		t.Fatal(err)
	}
	webtest.Step(t, ctx, "the live row", chromedp.WaitVisible(webtest.CSS(`#live-events tr[data-message-id="`+mid+`"]`)))
	checkFits(t, ctx, "live", "#live-events")
	if lbl := webtest.Read(t, ctx, "live label", chromedp.Evaluate[string](`document.querySelector("#live-events tbody td.event-user").getAttribute("data-label")`)); lbl != "User" {
		t.Errorf("live cells are labelled %q, want the column's heading", lbl)
	}
	shot390(t, ctx, "live-390.png")

	webtest.Step(t, ctx, "settings: generate and copy the secret", phone, chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS(`button[data-generate-secret="#secret"]`)),
		chromedp.Click(webtest.CSS(`button[data-generate-secret="#secret"]`)),
		chromedp.WaitVisible(webtest.CSS("#secret-copy")),
		chromedp.Click(webtest.CSS("#secret-copy")),
		chromedp.Poll[chromedp.Void](`document.getElementById("secret-copy").textContent === "Copied"`),
	)
	if n := webtest.Read(t, ctx, "Shared secret", chromedp.Evaluate[int](
		`Array.prototype.filter.call(document.querySelectorAll("#segment-source h3, #segment-source label"), function (e) { return e.textContent.trim() === "Shared secret"; }).length`)); n != 1 {
		t.Errorf(`"Shared secret" appears %d times on the Segment source form, want once`, n)
	}
	shot390(t, ctx, "settings-secret-390.png")
	webtest.Step(t, ctx, "docs/api.md is a link to the served docs",
		chromedp.Click(webtest.CSS("#api-docs-link")),
		chromedp.WaitVisible(webtest.CSS("#doc h1")),
	)
	if url := webtest.Read(t, ctx, "url", chromedp.Location()); !strings.HasSuffix(url, "/docs/api") {
		t.Errorf("docs link led to %s", url)
	}
	checkFits(t, ctx, "docs/api")
}
