package dashboard_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/chromedp/chromedp"

	"github.com/inlet-dev/inlet/internal/store"
)

func storeLiveEvents(d *webtest.Dash, typ string, mids ...string) {
	d.T.Helper()
	ws := d.DefaultWS()
	evs := make([]store.NewEvent, len(mids))
	for i, m := range mids {
		evs[i] = store.NewEvent{WorkspaceID: ws.ID, MessageID: m, Type: typ, Event: "Live <b>Test</b>", UserID: "u-live",
			ReceivedAt: time.Now(), Source: "webhook", Raw: []byte(`{"type":"` + typ + `","messageId":"` + m + `"}`)}
	}
	if _, err := d.St.InsertEvents(context.Background(), evs); err != nil {
		d.T.Fatal(err)
	}
}

// An admin adds a destination in a real browser and gets its secret once.
func TestE2ECreateDestination(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in and open destinations",
		chromedp.Navigate(d.URL+"/dashboard/settings"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#nav-destinations")),
		chromedp.Click(webtest.CSS("#nav-destinations")),
		chromedp.WaitVisible(webtest.CSS("#destination-form")),
	)
	webtest.Step(t, ctx, "add one",
		chromedp.SendKeys(webtest.CSS("#destination-url"), recv.URL+"/hook"),
		chromedp.SendKeys(webtest.CSS("#destination-name"), "Warehouse"),
		chromedp.Click(webtest.CSS("#type-track")),
		chromedp.Click(webtest.CSS("#destination-create")),
		chromedp.WaitVisible(webtest.CSS("#new-secret")),
	)
	secret := webtest.Read(t, ctx, "secret", chromedp.Value(webtest.CSS("#new-secret")))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	webtest.Step(t, ctx, "open it",
		chromedp.Click(webtest.CSS("#new-destination-link")),
		chromedp.WaitVisible(webtest.CSS("#destination-figures")),
	)
	if got := webtest.Read(t, ctx, "url", chromedp.Text(webtest.CSS("#destination-url"))); got != recv.URL+"/hook" {
		t.Fatalf("destination page shows URL %q", got)
	}
}

// Live mode shows events of the page's filter as they are committed, and
// keeps at most 200 rows.
func TestE2ELiveMode(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := webtest.Chrome(t)
	webtest.Step(t, ctx, "sign in and open events filtered on track",
		chromedp.Navigate(d.URL+"/dashboard/events?type=track"),
		chromedp.WaitVisible(webtest.CSS("#login-form")),
		chromedp.SendKeys(webtest.CSS("#email"), webtest.AdminEmail),
		chromedp.SendKeys(webtest.CSS("#password"), webtest.AdminPassword),
		chromedp.Click(webtest.CSS(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(webtest.CSS("#live-toggle")),
		chromedp.Click(webtest.CSS("#live-toggle")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").textContent.startsWith("Live:")`),
	)
	storeLiveEvents(d, "identify", "live-identify")
	storeLiveEvents(d, "track", "live-1")
	webtest.Step(t, ctx, "the track event appears",
		chromedp.WaitVisible(webtest.CSS(`#live-events tr[data-message-id="live-1"]`)),
	)
	name := webtest.Read(t, ctx, "name", chromedp.Text(webtest.CSS(`#live-events tr[data-message-id="live-1"] .event-name`)))
	identify := webtest.Read(t, ctx, "identify row", chromedp.Evaluate[bool](`!!document.querySelector('#live-events tr[data-message-id="live-identify"]')`))
	if name != "Live <b>Test</b>" || identify {
		t.Fatalf("live row name %q (markup must stay text); identify shown despite the filter: %v", name, identify)
	}
	var many []string
	for i := range 230 {
		many = append(many, fmt.Sprintf("burst-%03d", i))
	}
	storeLiveEvents(d, "track", many...)
	webtest.Step(t, ctx, "a burst is bounded",
		chromedp.WaitVisible(webtest.CSS(`#live-events tr[data-message-id="burst-229"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#live-events tbody tr").length === 200`),
	)
}

// The stream resumes from Last-Event-ID, as a browser does after a restart.
func TestEventsLiveResumes(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	read := func(lastID string, want string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.URL+"/dashboard/events/live?type=track", nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := d.C.HC.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("live: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		sc := bufio.NewScanner(resp.Body)
		id := ""
		for sc.Scan() {
			line := sc.Text()
			if line == ": following" && lastID == "" {
				// The stream has taken its start: what commits now is shown.
				storeLiveEvents(d, "track", want)
			}
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"messageId":"`+want+`"`) {
				return id
			}
		}
		t.Fatalf("stream ended without %s: %v", want, sc.Err())
		return ""
	}
	id := read("", "first")
	storeLiveEvents(d, "track", "while-away") // committed while the browser is disconnected
	read(id, "while-away")
}
