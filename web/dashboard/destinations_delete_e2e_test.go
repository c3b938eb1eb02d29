package dashboard_test

import (
	"github.com/inlet-dev/inlet/web/webtest"

	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

// The destination page shows its circuit: closed while events flow, and
// while open since when, why, the failed probes and the next one.
func TestDestinationPageShowsCircuit(t *testing.T) {
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := context.Background()
	ws := d.DefaultWS()
	dest, err := delivery.Create(ctx, d.St, nil, ws.ID, delivery.Input{Name: "down", URL: "http://127.0.0.1:1/hook"})
	if err != nil {
		t.Fatal(err)
	}
	d.C.MustSignIn()
	p := d.C.Get("/dashboard/destinations/" + dest.ID.String())
	if p.Status != http.StatusOK || p.Attr("#figure-circuit", "data-circuit") != "closed" || p.Doc.Find("#destination-circuit").Length() != 0 {
		t.Fatalf("closed circuit shown as %q:\n%s", p.Text("#figure-circuit"), p.Text("#destination"))
	}
	// The worker's own write: lease, then progress with the circuit open.
	now := time.Now()
	if ok, err := d.St.ClaimDestination(ctx, dest.ID, "test-worker", now, time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	since, next := now.Add(-90*time.Second), now.Add(20*time.Second)
	if err := d.St.SaveDeliveryProgress(ctx, store.DeliveryProgress{DestinationID: dest.ID, Owner: "test-worker", Now: now,
		Circuit: &store.Circuit{OpenSince: &since, NextProbe: &next, Probes: 7, Reason: "HTTP 503 Service Unavailable"}}); err != nil {
		t.Fatal(err)
	}
	p = d.C.Get("/dashboard/destinations/" + dest.ID.String())
	notice := p.Text("#destination-circuit")
	if p.Attr("#figure-circuit", "data-circuit") != "open" || !strings.Contains(notice, "HTTP 503") || !strings.Contains(notice, "7 failed") ||
		!strings.Contains(notice, "Next probe") {
		t.Fatalf("open circuit shown as %q / %q", p.Text("#figure-circuit"), notice)
	}
}

// Deleting a destination needs the box ticked (the server checks it); then,
// in a real browser, the confirmation dialog names it, and the list no
// longer shows it.
func TestE2EDeleteDestination(t *testing.T) {
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	bg := context.Background()
	ws := d.DefaultWS()
	dest, err := delivery.Create(bg, d.St, nil, ws.ID, delivery.Input{Name: "Old CRM", URL: "http://127.0.0.1:1/hook"})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := delivery.Create(bg, d.St, nil, ws.ID, delivery.Input{Name: "Warehouse", URL: "http://127.0.0.1:2/hook"})
	if err != nil {
		t.Fatal(err)
	}
	storeLiveEvents(d, "track", "waiting-1")
	if _, err := d.St.ReplayDestination(bg, dest, store.EventFilter{}); err != nil {
		t.Fatal(err)
	}

	// Without the box: refused, nothing deleted.
	d.C.MustSignIn()
	page := d.C.Get("/dashboard/destinations/" + dest.ID.String())
	r := d.C.Submit(page, "#delete-destination-form", url.Values{"confirm": {""}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Text("#delete-destination-error"), "Tick the box") {
		t.Fatalf("delete without the box: %d %q", r.Status, r.Text("#delete-destination-error"))
	}
	if _, err := d.St.Destination(bg, ws.ID, dest.ID); err != nil {
		t.Fatalf("deleted without confirmation: %v", err)
	}

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
	webtest.Step(t, ctx, "sign in and open the destination",
		chromedp.Navigate(d.URL+"/dashboard/destinations/"+dest.ID.String()),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#delete-destination")),
	)
	if got := webtest.Read(t, ctx, "delete label", chromedp.TextContent(webtest.CSS(`label[for="delete-destination-confirm"]`))); !strings.Contains(got, "1 waiting") {
		t.Fatalf("the confirmation does not say what is dropped: %q", got)
	}
	webtest.Step(t, ctx, "delete it",
		chromedp.Click(webtest.CSS("#delete-destination-details summary")),
		chromedp.WaitVisible(webtest.CSS("#delete-destination-confirm")),
		chromedp.Click(webtest.CSS("#delete-destination-confirm")),
		chromedp.Click(webtest.CSS("#delete-destination-submit")),
		chromedp.WaitVisible(webtest.CSS("#destination-form")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "Old CRM") {
			t.Errorf("confirmation dialog %q does not name the destination", msg)
		}
	default:
		t.Error("no confirmation dialog")
	}
	flash := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS("#flash")))
	list := webtest.Read(t, ctx, "list", chromedp.Text(webtest.CSS("#destination-list")))
	if !strings.Contains(flash, "deleted") || strings.Contains(list, "Old CRM") || !strings.Contains(list, "Warehouse") {
		t.Fatalf("after delete: flash %q, list %q", flash, list)
	}
	if _, err := d.St.Destination(bg, ws.ID, dest.ID); err == nil {
		t.Fatal("destination still stored")
	}
	if s, err := d.St.DestinationStats(bg, dest); err != nil || s.Retrying != 0 {
		t.Fatalf("its waiting delivery survived: %+v %v", s, err)
	}
	if _, err := d.St.Destination(bg, ws.ID, keep.ID); err != nil {
		t.Fatalf("the other destination went too: %v", err)
	}
}
