package dashboard_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/PuerkitoBio/goquery"

	"github.com/inlet-dev/inlet/internal/store"
)

func messageIDs(p webtest.Page) []string {
	var out []string
	p.Doc.Find("#events tr.event-raw summary .mono").Each(func(_ int, s *goquery.Selection) {
		out = append(out, strings.TrimSpace(s.Text()))
	})
	return out
}

func href(t *testing.T, p webtest.Page, sel string) string {
	t.Helper()
	h, ok := p.Doc.Find(sel).Attr("href")
	if !ok {
		t.Fatalf("no link %s on the page", sel)
	}
	return h
}

func TestEventsPagesNewestFirst(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	def, _ := d.St.DefaultWorkspace(context.Background())
	webtest.StoreEvents(t, d.St, def.ID, 120, nil)

	p1 := d.C.Get("/dashboard/events")
	if p1.Status != http.StatusOK {
		t.Fatalf("GET /dashboard/events: %d %s", p1.Status, p1.Body)
	}
	ids1 := messageIDs(p1)
	if len(ids1) != 50 || ids1[0] != "m-119" || ids1[49] != "m-070" {
		t.Fatalf("first page: %d rows %v", len(ids1), ids1)
	}
	if p1.Doc.Find("#newer").Length() != 0 {
		t.Fatal("the newest page offers a newer link")
	}
	older := href(t, p1, "#older")
	if strings.Contains(older, "offset") || !strings.Contains(older, "before=") {
		t.Fatalf("older link is not a cursor: %s", older)
	}
	p2 := d.C.Get(older)
	p3 := d.C.Get(href(t, p2, "#older"))
	ids2, ids3 := messageIDs(p2), messageIDs(p3)
	if len(ids2) != 50 || ids2[0] != "m-069" || len(ids3) != 20 || ids3[19] != "m-000" {
		t.Fatalf("pages 2 and 3: %v / %v", ids2, ids3)
	}
	if p3.Doc.Find("#older").Length() != 0 {
		t.Fatal("the oldest page offers an older link")
	}
	back := d.C.Get(href(t, p3, "#newer"))
	if got := messageIDs(back); strings.Join(got, ",") != strings.Join(ids2, ",") {
		t.Fatalf("← Newer from page 3 = %v, want page 2", got)
	}

	// Rows carry what an admin looks for.
	row := p1.Doc.Find("#events tr.event-row").First()
	if got := strings.TrimSpace(row.Find(".event-type").Text()); got != "identify" {
		t.Fatalf("type badge = %q", got)
	}
	if got, _ := row.Find("time").Attr("datetime"); got != "2026-04-01T12:01:59Z" {
		t.Fatalf("received time = %q", got)
	}
	if got := strings.TrimSpace(row.Find(".event-source").Text()); got != "Segment webhook" {
		t.Fatalf("source = %q", got)
	}
	raw := p1.Doc.Find("#events pre.raw-json").First()
	want := "{\n  \"type\": \"identify\",\n  \"messageId\": \"m-119\",\n  \"properties\": {\n    \"n\": 119\n  }\n}"
	if raw.Text() != want {
		t.Fatalf("raw JSON is not pretty-printed:\n%s", raw.Text())
	}
	id, _ := raw.Attr("id")
	if sel, _ := raw.Parent().Find("button[data-copy]").Attr("data-copy"); sel != "#"+id {
		t.Fatalf("copy button targets %q, want #%s", sel, id)
	}
}

func TestEventsFilters(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	ctx := context.Background()
	def, _ := d.St.DefaultWorkspace(ctx)
	other, err := d.St.CreateWorkspace(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	wk, _, err := d.St.CreateWriteKey(ctx, def.ID, "checkout")
	if err != nil {
		t.Fatal(err)
	}
	webtest.StoreEvents(t, d.St, def.ID, 40, func(i int, e *store.NewEvent) {
		if i == 7 {
			e.UserID, e.AnonymousID = "", "u-1" // the user field matches anonymous ids too
		}
		if i == 8 {
			e.Source, e.SourceKey = "http_api", wk.ID.String()
		}
	})
	webtest.StoreEvents(t, d.St, other.ID, 5, func(_ int, e *store.NewEvent) { e.MessageID = "other-" + e.MessageID })

	cases := []struct {
		query string
		want  int
		check func(p webtest.Page) error
	}{
		{"type=identify", 20, func(p webtest.Page) error {
			if n := p.Doc.Find(`.event-type:contains("track")`).Length(); n != 0 {
				return fmt.Errorf("%d track rows", n)
			}
			if v, _ := p.Doc.Find(`#f-type option[selected]`).Attr("value"); v != "identify" {
				return fmt.Errorf("select shows %q", v)
			}
			return nil
		}},
		{"event=Clicked", 20, nil},
		{"user=u-1", 11, nil}, // i%4==1 (10) plus the anonymous one
		{"from=2026-04-01T12:00:10&to=2026-04-01T12:00:20", 10, func(p webtest.Page) error {
			if v, _ := p.Doc.Find("#f-from").Attr("value"); v != "2026-04-01T12:00:10" {
				return fmt.Errorf("from field shows %q", v)
			}
			return nil
		}},
		{"user=u-0&type=track", 10, nil},
		{"user=nobody", 0, func(p webtest.Page) error {
			if !strings.Contains(p.Text("#no-events"), "No events match") {
				return fmt.Errorf("empty message %q", p.Text("#no-events"))
			}
			return nil
		}},
		{"type=track&event=Clicked&user=u-2&from=2026-04-01T12:00", 10, nil},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			p := d.C.Get("/dashboard/events?" + c.query)
			if p.Status != http.StatusOK {
				t.Fatalf("status %d: %s", p.Status, p.Body)
			}
			if got := messageIDs(p); len(got) != c.want {
				t.Fatalf("%d rows, want %d: %v", len(got), c.want, got)
			}
			for _, id := range messageIDs(p) {
				if strings.HasPrefix(id, "other-") {
					t.Fatalf("another workspace's event %s is listed", id)
				}
			}
			if c.check != nil {
				if err := c.check(p); err != nil {
					t.Fatal(err)
				}
			}
		})
	}

	api := d.C.Get("/dashboard/events?user=u-0&from=2026-04-01T12:00:08&to=2026-04-01T12:00:09")
	// The key by its name and prefix, never its internal id.
	if got := strings.Join(strings.Fields(api.Text("#events .event-source")), " "); got != "HTTP API · checkout ("+wk.Prefix+"…)" {
		t.Fatalf("HTTP API source shows %q", got)
	}
	many := d.C.Get("/dashboard/events?ws=" + other.ID.String())
	if got := messageIDs(many); len(got) != 5 || !strings.HasPrefix(got[0], "other-") {
		t.Fatalf("?ws= of the other workspace lists %v", got)
	}
}

func TestEventsFilterKeptAcrossPages(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	def, _ := d.St.DefaultWorkspace(context.Background())
	webtest.StoreEvents(t, d.St, def.ID, 130, nil) // 65 track events
	p := d.C.Get("/dashboard/events?type=track")
	next := href(t, p, "#older")
	u, err := url.Parse(next)
	if err != nil || u.Query().Get("type") != "track" {
		t.Fatalf("older link drops the filter: %s", next)
	}
	p2 := d.C.Get(next)
	if got := messageIDs(p2); len(got) != 15 || p2.Doc.Find(`.event-type:contains("identify")`).Length() != 0 {
		t.Fatalf("second filtered page: %v", got)
	}
}

func TestEventsAreShownAsTextNeverMarkup(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	def, _ := d.St.DefaultWorkspace(context.Background())
	const script = `<script>alert("x")</script>`
	const img = `<img src=x onerror=alert(1)>`
	webtest.StoreEvents(t, d.St, def.ID, 1, func(_ int, e *store.NewEvent) {
		e.UserID, e.AnonymousID, e.Event, e.MessageID = script, img, img, `m-"><b>bold</b>`
		e.Source, e.SourceKey = "http_api", `<svg onload=alert(2)>`
		e.Raw = []byte(`{"userId":"<script>alert(\"x\")</script>","event":"<img src=x onerror=alert(1)>","p":"</pre><script>alert(3)</script>"}`)
	})
	p := d.C.Get("/dashboard/events")
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	p.Doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, ok := s.Attr("src"); !ok || !strings.HasPrefix(src, "/") || strings.TrimSpace(s.Text()) != "" {
			t.Fatalf("a script element came from data: %s", goquery.NewDocumentFromNode(s.Nodes[0]).Text())
		}
	})
	for _, sel := range []string{"img[onerror]", "svg[onload]", "b", "[onerror]", "[onload]"} {
		if n := p.Doc.Find(sel).Length(); n != 0 {
			t.Fatalf("%d %s elements on the page", n, sel)
		}
	}
	if got := p.Text("#events .user-id"); got != script {
		t.Fatalf("user id shown as %q", got)
	}
	if got := p.Text("#events .event-name"); got != img {
		t.Fatalf("event name shown as %q", got)
	}
	if got := p.Text("#events pre.raw-json"); !strings.Contains(got, `"</pre><script>alert(3)</script>"`) {
		t.Fatalf("raw JSON shown as %q", got)
	}
}

func TestEventsBadFiltersExplainThemselves(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	long := strings.Repeat("x", 201)
	q := url.Values{"type": {"<script>"}, "event": {long}, "user": {"a\x00b"}, "from": {"yesterday"},
		"to": {"2026-13-40T99:99"}, "before": {"12-x"}}
	p := d.C.Get("/dashboard/events?" + q.Encode())
	if p.Status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400: %s", p.Status, p.Body)
	}
	for _, f := range []string{"type", "event", "user", "from", "to"} {
		msg := p.Text("#f-" + f + "-error")
		if msg == "" {
			t.Errorf("no message next to %s", f)
		}
		if v, _ := p.Doc.Find("#f-" + f).Attr("aria-invalid"); v != "true" {
			t.Errorf("%s field not marked invalid", f)
		}
	}
	if p.Text("#page-error") == "" {
		t.Error("no message about the bad page link")
	}
	if v, _ := p.Doc.Find("#f-event").Attr("value"); v != long {
		t.Error("the typed event name is not kept")
	}

	order := d.C.Get("/dashboard/events?from=2026-04-02T00:00&to=2026-04-01T00:00")
	if order.Status != http.StatusBadRequest || !strings.Contains(order.Text("#f-to-error"), "later") {
		t.Fatalf("to before from: %d %q", order.Status, order.Text("#f-to-error"))
	}
	if ok := d.C.Get("/dashboard/events"); ok.Status != http.StatusOK {
		t.Fatalf("server unwell after bad filters: %d", ok.Status)
	}
}

func TestEventsNeedSignIn(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	p := d.C.Get("/dashboard/events?type=track")
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login?next=") {
		t.Fatalf("anonymous GET: %d to %q", p.Status, p.Header.Get("Location"))
	}
}
