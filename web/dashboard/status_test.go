package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/PuerkitoBio/goquery"
	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/templates"
)

func deliver(t *testing.T, base string, ws uuid.UUID, sig string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/api/public/webhooks/segment?workspaceId="+ws.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type statusDoc struct {
	WorkspaceID    string     `json:"workspaceId"`
	LastAcceptedAt *time.Time `json:"lastAcceptedAt"`
	LastHour       struct {
		Requests, Accepted, Duplicates, Refused int64
	} `json:"lastHour"`
	RefusedBy []struct {
		Outcome  string `json:"outcome"`
		Requests int64  `json:"requests"`
	} `json:"refusedBy"`
	PerMinute []struct {
		Accepted int64 `json:"accepted"`
		Refused  int64 `json:"refused"`
	} `json:"perMinute"`
	Recent []struct {
		Outcome  string `json:"outcome"`
		Status   int    `json:"status"`
		Reason   string `json:"reason"`
		Accepted int    `json:"accepted"`
	} `json:"recent"`
}

func TestStatusFollowsDeliveries(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := context.Background()
	def, _ := d.St.DefaultWorkspace(ctx)
	const secret = "status-test-secret-0123456789abcdef"
	if err := d.St.SetSecret(ctx, def.ID, secret, "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	d.Srv.InvalidateWorkspace()

	body := []byte(`[{"type":"track","event":"A","userId":"u","messageId":"s-1"},{"type":"track","event":"B","userId":"u","messageId":"s-2"}]`)
	if code := deliver(t, d.URL, def.ID, segment.Sign([]byte(secret), body), body); code != http.StatusOK {
		t.Fatalf("signed delivery: %d", code)
	}
	if code := deliver(t, d.URL, def.ID, segment.Sign([]byte(secret), body), body); code != http.StatusOK {
		t.Fatalf("repeated delivery: %d", code)
	}
	if code := deliver(t, d.URL, def.ID, segment.Sign([]byte("wrong"), body), body); code != http.StatusUnauthorized {
		t.Fatalf("badly signed delivery: %d", code)
	}

	if p := d.C.Get("/dashboard/status.json"); p.Status != http.StatusSeeOther {
		t.Fatalf("status.json without signing in: %d", p.Status)
	}
	d.C.MustSignIn()
	p := d.C.Get("/dashboard/status.json?ws=" + def.ID.String())
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status.json: %d %s", p.Status, p.Body)
	}
	var s statusDoc
	if err := json.Unmarshal(p.Body, &s); err != nil {
		t.Fatal(err)
	}
	if s.WorkspaceID != def.ID.String() || s.LastAcceptedAt == nil || time.Since(*s.LastAcceptedAt) > time.Minute {
		t.Fatalf("status: %+v", s)
	}
	if s.LastHour.Requests != 3 || s.LastHour.Accepted != 2 || s.LastHour.Duplicates != 2 || s.LastHour.Refused != 1 {
		t.Fatalf("last hour: %+v", s.LastHour)
	}
	if len(s.RefusedBy) != 1 || s.RefusedBy[0].Outcome != "bad_signature" || len(s.PerMinute) != 60 {
		t.Fatalf("refused by %+v, %d minutes", s.RefusedBy, len(s.PerMinute))
	}
	if len(s.Recent) != 3 || s.Recent[0].Outcome != "bad_signature" || s.Recent[0].Status != 401 ||
		!strings.Contains(s.Recent[0].Reason, "X-Signature") || s.Recent[1].Outcome != "duplicate" || s.Recent[2].Accepted != 2 {
		t.Fatalf("recent: %+v", s.Recent)
	}

	for _, ws := range []string{uuid.NewString(), "not-a-uuid"} {
		p := d.C.Get("/dashboard/status.json?ws=" + ws)
		if p.Status != http.StatusNotFound || !bytes.Contains(p.Body, []byte(`"error"`)) {
			t.Fatalf("status of unknown workspace %s: %d %s", ws, p.Status, p.Body)
		}
	}
	other, _ := d.St.CreateWorkspace(ctx, "Quiet")
	p = d.C.Get("/dashboard/status.json?ws=" + other.ID.String())
	var quiet statusDoc
	if err := json.Unmarshal(p.Body, &quiet); err != nil || quiet.LastAcceptedAt != nil || len(quiet.Recent) != 0 || quiet.LastHour.Requests != 0 {
		t.Fatalf("a quiet workspace sees another's status: %s", p.Body)
	}
}

func renderStatus(t *testing.T, p templates.ConnectionStatusProps) *goquery.Document {
	t.Helper()
	var b bytes.Buffer
	if err := templates.ConnectionStatus(p).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestConnectionStatusRendering(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 6, 9, 0, 0, 0, time.UTC)
	minutes := make([]templates.StatusMinute, 60)
	for i := range minutes {
		minutes[i] = templates.StatusMinute{Start: start.Add(time.Duration(i) * time.Minute)}
	}
	minutes[59].Accepted, minutes[30].Accepted, minutes[10].Refused = 40, 10, 3

	empty := renderStatus(t, templates.ConnectionStatusProps{Minutes: minutes[:0]})
	if got := empty.Find("#last-event").Text(); !strings.Contains(got, "No events yet") {
		t.Fatalf("empty status says %q", got)
	}
	if empty.Find("#no-deliveries").Length() != 1 {
		t.Fatal("empty status has no 'no deliveries' line")
	}

	hostile := `<img src=x onerror=alert(1)><script>alert(2)</script>`
	doc := renderStatus(t, templates.ConnectionStatusProps{
		LastAccepted: start.Add(59 * time.Minute), LastAcceptedAgo: "2 minutes ago", Accepted: 50, Refused: 3,
		RefusedBy: []templates.StatusOutcomeCount{{Outcome: "bad_body", Label: "bad body", Requests: 3}},
		Minutes:   minutes,
		Attempts: []templates.StatusAttempt{
			{At: start, Outcome: "bad_body", Label: "Bad body", BadgeClass: "badge-err", Status: 400, Reason: hostile},
			{At: start, Outcome: "accepted", Label: "Accepted", BadgeClass: "badge-ok", Status: 200, Accepted: 5, Duplicates: 1},
		},
	})
	if got := strings.Join(strings.Fields(doc.Find("#last-event").Text()), " "); got != "Last event accepted: 2 minutes ago (2026-05-06 09:59:00 UTC)" {
		t.Fatalf("last event line = %q", got)
	}
	if doc.Find("img, script, [onerror]").Length() != 0 {
		t.Fatal("a delivery reason became markup")
	}
	rows := doc.Find("#recent-deliveries tbody tr")
	if rows.Length() != 2 || rows.First().Find(".reason").Text() != hostile || !rows.First().Find(".badge").HasClass("badge-err") {
		t.Fatalf("deliveries table: %d rows, first reason %q", rows.Length(), rows.First().Find(".reason").Text())
	}
	if got := strings.TrimSpace(rows.Eq(1).Find("td").Eq(5).Text()); got != "5 (+1 duplicates)" {
		t.Fatalf("events cell = %q", got)
	}
	bars := doc.Find("#minute-chart g.minute")
	if bars.Length() != 60 {
		t.Fatalf("%d bars, want 60", bars.Length())
	}
	height := func(i int) string { h, _ := bars.Eq(i).Find("rect.bar-accepted").Attr("height"); return h }
	if height(59) != "48" || height(30) != "12" || height(0) != "0" {
		t.Fatalf("bar heights %s/%s/%s, want 48/12/0 (scaled to the busiest minute)", height(59), height(30), height(0))
	}
	if bars.Eq(10).Find("rect.bar-refused").Length() != 1 || bars.Eq(11).Find("rect.bar-refused").Length() != 0 {
		t.Fatal("refusal marks are not where refusals were")
	}
	if !strings.Contains(bars.Eq(10).Find("title").Text(), "09:10 UTC: 0 accepted, 0 duplicates, 3 refused") {
		t.Fatalf("bar title = %q", bars.Eq(10).Find("title").Text())
	}
	if doc.Find("[style]").Length() != 0 {
		t.Fatal("style attributes break the page's Content-Security-Policy")
	}
}
