package web_test

import (
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
	d := startDashboard(t, dashOptions{})
	ctx := context.Background()
	ws := d.defaultWS()
	dest, err := delivery.Create(ctx, d.st, nil, ws.ID, delivery.Input{Name: "down", URL: "http://127.0.0.1:1/hook"})
	if err != nil {
		t.Fatal(err)
	}
	d.c.mustSignIn()
	p := d.c.get("/dashboard/destinations/" + dest.ID.String())
	if p.Status != http.StatusOK || p.attr("#figure-circuit", "data-circuit") != "closed" || p.Doc.Find("#destination-circuit").Length() != 0 {
		t.Fatalf("closed circuit shown as %q:\n%s", p.text("#figure-circuit"), p.text("#destination"))
	}
	// The worker's own write: lease, then progress with the circuit open.
	now := time.Now()
	if ok, err := d.st.ClaimDestination(ctx, dest.ID, "test-worker", now, time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}
	since, next := now.Add(-90*time.Second), now.Add(20*time.Second)
	if err := d.st.SaveDeliveryProgress(ctx, store.DeliveryProgress{DestinationID: dest.ID, Owner: "test-worker", Now: now,
		Circuit: &store.Circuit{OpenSince: &since, NextProbe: &next, Probes: 7, Reason: "HTTP 503 Service Unavailable"}}); err != nil {
		t.Fatal(err)
	}
	p = d.c.get("/dashboard/destinations/" + dest.ID.String())
	notice := p.text("#destination-circuit")
	if p.attr("#figure-circuit", "data-circuit") != "open" || !strings.Contains(notice, "HTTP 503") || !strings.Contains(notice, "7 failed") ||
		!strings.Contains(notice, "Next probe") {
		t.Fatalf("open circuit shown as %q / %q", p.text("#figure-circuit"), notice)
	}
}

// Deleting a destination needs the box ticked (the server checks it); then,
// in a real browser, the confirmation dialog names it, and the list no
// longer shows it.
func TestE2EDeleteDestination(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	bg := context.Background()
	ws := d.defaultWS()
	dest, err := delivery.Create(bg, d.st, nil, ws.ID, delivery.Input{Name: "Old CRM", URL: "http://127.0.0.1:1/hook"})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := delivery.Create(bg, d.st, nil, ws.ID, delivery.Input{Name: "Warehouse", URL: "http://127.0.0.1:2/hook"})
	if err != nil {
		t.Fatal(err)
	}
	d.storeEvents("track", "waiting-1")
	if _, err := d.st.ReplayDestination(bg, dest, store.EventFilter{}); err != nil {
		t.Fatal(err)
	}

	// Without the box: refused, nothing deleted.
	d.c.mustSignIn()
	page := d.c.get("/dashboard/destinations/" + dest.ID.String())
	r := d.c.submit(page, "#delete-destination-form", url.Values{"confirm": {""}})
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.text("#delete-destination-error"), "Tick the box") {
		t.Fatalf("delete without the box: %d %q", r.Status, r.text("#delete-destination-error"))
	}
	if _, err := d.st.Destination(bg, ws.ID, dest.ID); err != nil {
		t.Fatalf("deleted without confirmation: %v", err)
	}

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
	step(t, ctx, "sign in and open the destination",
		chromedp.Navigate(d.url+"/dashboard/destinations/"+dest.ID.String()),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#delete-destination")),
	)
	if got := read(t, ctx, "delete label", chromedp.TextContent(css(`label[for="delete-destination-confirm"]`))); !strings.Contains(got, "1 waiting") {
		t.Fatalf("the confirmation does not say what is dropped: %q", got)
	}
	step(t, ctx, "delete it",
		chromedp.Click(css("#delete-destination-details summary")),
		chromedp.WaitVisible(css("#delete-destination-confirm")),
		chromedp.Click(css("#delete-destination-confirm")),
		chromedp.Click(css("#delete-destination-submit")),
		chromedp.WaitVisible(css("#destination-form")),
	)
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "Old CRM") {
			t.Errorf("confirmation dialog %q does not name the destination", msg)
		}
	default:
		t.Error("no confirmation dialog")
	}
	flash := read(t, ctx, "flash", chromedp.Text(css("#flash")))
	list := read(t, ctx, "list", chromedp.Text(css("#destination-list")))
	if !strings.Contains(flash, "deleted") || strings.Contains(list, "Old CRM") || !strings.Contains(list, "Warehouse") {
		t.Fatalf("after delete: flash %q, list %q", flash, list)
	}
	if _, err := d.st.Destination(bg, ws.ID, dest.ID); err == nil {
		t.Fatal("destination still stored")
	}
	if s, err := d.st.DestinationStats(bg, dest); err != nil || s.Retrying != 0 {
		t.Fatalf("its waiting delivery survived: %+v %v", s, err)
	}
	if _, err := d.st.Destination(bg, ws.ID, keep.ID); err != nil {
		t.Fatalf("the other destination went too: %v", err)
	}
}
