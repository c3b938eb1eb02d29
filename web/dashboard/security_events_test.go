package dashboard_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/chromedp/chromedp"

	"github.com/inlet-dev/inlet/internal/store"
)

// Security review item 2: an event nested thousands deep, and one near the
// 32 KB limit, must not make /dashboard/events grow without bound; what is
// not shown can be downloaded exactly as stored. Seen in a real browser.
func TestEventsPageBoundsWhatIsStored(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ws := d.DefaultWS()
	const depth = 7000 // 14 KB: under the 16 KB shown, so only its depth is bounded
	deep := []byte(`{"type":"track","event":"Deep","messageId":"deep","properties":{"x":` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`)
	wide := []byte(`{"type":"track","event":"Wide","messageId":"wide","properties":{"s":"` + strings.Repeat(`<\"&`, 8000) + `"}}`)
	webtest.StoreEvents(t, d.St, ws.ID, 2, func(i int, e *store.NewEvent) {
		e.Type, e.Event = "track", "Big"
		e.Raw = [][]byte{deep, wide}[i]
	})

	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in and open the events",
		chromedp.Navigate(d.URL+"/dashboard/events"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#events")),
	)
	html := webtest.Read(t, ctx, "page", chromedp.OuterHTML(webtest.CSS("html")))
	if len(html) > 1<<20 {
		t.Fatalf("the events page is %d bytes for two events, want under 1 MB", len(html))
	}
	if n := strings.Count(html, "Download the exact JSON"); n != 1 {
		t.Fatalf("%d download links, want 1 (for the event cut short)", n)
	}

	// The link gives back the exact stored bytes.
	p := d.C.Get("/dashboard/events")
	if p.Status != http.StatusOK {
		d.C.MustSignIn()
		p = d.C.Get("/dashboard/events")
	}
	href, _ := p.Doc.Find(`a[id^="raw-download-"]`).First().Attr("href")
	if href == "" {
		t.Fatalf("no download link in:\n%.2000s", p.Body)
	}
	got := d.C.Get(href)
	if got.Status != http.StatusOK || !bytes.Equal(got.Body, wide) {
		t.Fatalf("download: %d, %d bytes, exact=%v", got.Status, len(got.Body), bytes.Equal(got.Body, wide))
	}
}
