package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/inlet-dev/inlet/internal/delivery"
)

// From the events page, an admin replays the current filter to a chosen
// destination: the confirmation states the count (the filter's events of
// the destination's types, never Inlet's test events), and confirming
// queues exactly those.
func TestE2EReplayFromEventsPage(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	bg := context.Background()
	ws := d.defaultWS()
	if _, err := delivery.Create(bg, d.st, nil, ws.ID, delivery.Input{Name: "Warehouse", URL: "http://127.0.0.1:1/hook"}); err != nil {
		t.Fatal(err)
	}
	crm, err := delivery.Create(bg, d.st, nil, ws.ID, delivery.Input{Name: "CRM", URL: "http://127.0.0.1:2/hook", Types: "track"})
	if err != nil {
		t.Fatal(err)
	}
	d.storeEvents("track", "t-1", "t-2", "t-3", "inlet-test-x")
	d.storeEvents("identify", "i-1")

	ctx := newChrome(t)
	step(t, ctx, "sign in and filter on the user",
		chromedp.Navigate(d.url+"/dashboard/events?user=u-live"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#replay-events")),
	)
	step(t, ctx, "replay to CRM",
		chromedp.Click(css("#replay-events summary")),
		chromedp.WaitVisible(css("#replay-destination")),
		chromedp.SetValue(css("#replay-destination"), crm.ID.String()),
		chromedp.Click(css("#replay-events-submit")),
		chromedp.WaitVisible(css("#replay-confirm")),
	)
	// 5 events of the user; CRM takes track only; the test event never goes.
	count := read(t, ctx, "count", chromedp.Text(css("#replay-count")))
	if !strings.Contains(count, "3 events") || !strings.Contains(count, "CRM") || !strings.Contains(count, "user u-live") {
		t.Fatalf("confirmation says %q, want 3 events of user u-live to CRM", count)
	}
	if n, _ := d.st.DestinationStats(bg, crm); n.Retrying != 0 {
		t.Fatal("queued before the confirmation")
	}
	step(t, ctx, "confirm",
		chromedp.Click(css("#replay-confirm")),
		chromedp.WaitVisible(css("#destination-figures")),
	)
	flash := read(t, ctx, "flash", chromedp.Text(css("#flash")))
	waiting := read(t, ctx, "waiting", chromedp.Text(css("#figure-retrying")))
	if !strings.Contains(flash, "3 events queued") || waiting != "3" {
		t.Fatalf("after confirming: flash %q, waiting %q", flash, waiting)
	}
}
