package web_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/inlet-dev/inlet/internal/store"
)

func (d *dashServer) storeEvents(typ string, mids ...string) {
	d.t.Helper()
	ws := d.defaultWS()
	evs := make([]store.NewEvent, len(mids))
	for i, m := range mids {
		evs[i] = store.NewEvent{WorkspaceID: ws.ID, MessageID: m, Type: typ, Event: "Live <b>Test</b>", UserID: "u-live",
			ReceivedAt: time.Now(), Source: "webhook", Raw: []byte(`{"type":"` + typ + `","messageId":"` + m + `"}`)}
	}
	if _, err := d.st.InsertEvents(context.Background(), evs); err != nil {
		d.t.Fatal(err)
	}
}

// An admin adds a destination in a real browser and gets its secret once.
func TestE2ECreateDestination(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer recv.Close()
	ctx := newChrome(t)
	step(t, ctx, "sign in and open destinations",
		chromedp.Navigate(d.url+"/dashboard/settings"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#nav-destinations")),
		chromedp.Click(css("#nav-destinations")),
		chromedp.WaitVisible(css("#destination-form")),
	)
	step(t, ctx, "add one",
		chromedp.SendKeys(css("#destination-url"), recv.URL+"/hook"),
		chromedp.SendKeys(css("#destination-name"), "Warehouse"),
		chromedp.Click(css("#type-track")),
		chromedp.Click(css("#destination-create")),
		chromedp.WaitVisible(css("#new-secret")),
	)
	secret := read(t, ctx, "secret", chromedp.Value(css("#new-secret")))
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q", secret)
	}
	step(t, ctx, "open it",
		chromedp.Click(css("#new-destination-link")),
		chromedp.WaitVisible(css("#destination-figures")),
	)
	if got := read(t, ctx, "url", chromedp.Text(css("#destination-url"))); got != recv.URL+"/hook" {
		t.Fatalf("destination page shows URL %q", got)
	}
}

// Live mode shows events of the page's filter as they are committed, and
// keeps at most 200 rows.
func TestE2ELiveMode(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	ctx := newChrome(t)
	step(t, ctx, "sign in and open events filtered on track",
		chromedp.Navigate(d.url+"/dashboard/events?type=track"),
		chromedp.WaitVisible(css("#login-form")),
		chromedp.SendKeys(css("#email"), adminEmail),
		chromedp.SendKeys(css("#password"), adminPassword),
		chromedp.Click(css(`#login-form button[type="submit"]`)),
		chromedp.WaitVisible(css("#live-toggle")),
		chromedp.Click(css("#live-toggle")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").textContent.startsWith("Live:")`),
	)
	d.storeEvents("identify", "live-identify")
	d.storeEvents("track", "live-1")
	step(t, ctx, "the track event appears",
		chromedp.WaitVisible(css(`#live-events tr[data-message-id="live-1"]`)),
	)
	name := read(t, ctx, "name", chromedp.Text(css(`#live-events tr[data-message-id="live-1"] .event-name`)))
	identify := read(t, ctx, "identify row", chromedp.Evaluate[bool](`!!document.querySelector('#live-events tr[data-message-id="live-identify"]')`))
	if name != "Live <b>Test</b>" || identify {
		t.Fatalf("live row name %q (markup must stay text); identify shown despite the filter: %v", name, identify)
	}
	var many []string
	for i := range 230 {
		many = append(many, fmt.Sprintf("burst-%03d", i))
	}
	d.storeEvents("track", many...)
	step(t, ctx, "a burst is bounded",
		chromedp.WaitVisible(css(`#live-events tr[data-message-id="burst-229"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#live-events tbody tr").length === 200`),
	)
}

// The stream resumes from Last-Event-ID, as a browser does after a restart.
func TestEventsLiveResumes(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	d.c.mustSignIn()
	read := func(lastID string, want string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, d.url+"/dashboard/events/live?type=track", nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		resp, err := d.c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("live: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if lastID == "" {
			go func() { time.Sleep(300 * time.Millisecond); d.storeEvents("track", want) }()
		}
		sc := bufio.NewScanner(resp.Body)
		id := ""
		for sc.Scan() {
			line := sc.Text()
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
	d.storeEvents("track", "while-away") // committed while the browser is disconnected
	read(id, "while-away")
}
