package dashboard_test

import (
	"github.com/inlet-dev/inlet/web/webtest"

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
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	bg := context.Background()
	ws := d.DefaultWS()
	if _, err := delivery.Create(bg, d.St, nil, ws.ID, delivery.Input{Name: "Warehouse", URL: "http://127.0.0.1:1/hook"}); err != nil {
		t.Fatal(err)
	}
	crm, err := delivery.Create(bg, d.St, nil, ws.ID, delivery.Input{Name: "CRM", URL: "http://127.0.0.1:2/hook", Types: "track"})
	if err != nil {
		t.Fatal(err)
	}
	storeLiveEvents(d, "track", "t-1", "t-2", "t-3", "inlet-test-x")
	storeLiveEvents(d, "identify", "i-1")

	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in and filter on the user",
		chromedp.Navigate(d.URL+"/dashboard/events?user=u-live"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#replay-events")),
	)
	webtest.Step(t, ctx, "replay to CRM",
		chromedp.Click(webtest.CSS("#replay-events summary")),
		chromedp.WaitVisible(webtest.CSS("#replay-destination")),
		chromedp.SetValue(webtest.CSS("#replay-destination"), crm.ID.String()),
		chromedp.Click(webtest.CSS("#replay-events-submit")),
		chromedp.WaitVisible(webtest.CSS("#replay-confirm")),
	)
	// 5 events of the user; CRM takes track only; the test event never goes.
	count := webtest.Read(t, ctx, "count", chromedp.Text(webtest.CSS("#replay-count")))
	if !strings.Contains(count, "3 events") || !strings.Contains(count, "CRM") || !strings.Contains(count, "user u-live") {
		t.Fatalf("confirmation says %q, want 3 events of user u-live to CRM", count)
	}
	if n, _ := d.St.DestinationStats(bg, crm); n.Retrying != 0 {
		t.Fatal("queued before the confirmation")
	}
	webtest.Step(t, ctx, "confirm",
		chromedp.Click(webtest.CSS("#replay-confirm")),
		chromedp.WaitVisible(webtest.CSS("#destination-figures")),
	)
	flash := webtest.Read(t, ctx, "flash", chromedp.Text(webtest.CSS("#flash")))
	waiting := webtest.Read(t, ctx, "waiting", chromedp.Text(webtest.CSS("#figure-retrying")))
	if !strings.Contains(flash, "3 events queued") || waiting != "3" {
		t.Fatalf("after confirming: flash %q, waiting %q", flash, waiting)
	}
}
