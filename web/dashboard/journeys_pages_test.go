package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// nestedJourney has every kind of step, with waitFor and branch nesting.
const nestedJourney = `{"key":"cart","name":"Abandoned cart","trigger":{"event":{"event":"Checkout Started"}},"reentry":"always",
 "exitOn":{"event":{"event":"Order Completed","match":["cartId"]}},
 "steps":[{"id":"wait1","wait":"1h"},
  {"id":"nudge","email":{"template":"welcome","group":"news"}},
  {"id":"bought","waitFor":{"event":{"event":"Order Completed","match":["cartId"]},"timeout":"1d","then":[],
    "onTimeout":[{"id":"last","email":{"template":"welcome","group":"news"}}]}},
  {"id":"vip","branch":{"if":{"trait":"plan","op":"eq","value":"pro"},"then":[{"id":"later","wait":"2d"}],"else":[]}}]}`

// journeyFixtures makes the template and group journeys name.
func journeyFixtures(t *testing.T, st *store.Store, ws store.Workspace) {
	t.Helper()
	bg := context.Background()
	if _, err := st.CreateEmailTemplate(bg, ws.ID, store.EmailTemplate{Key: "welcome", Subject: "Welcome {{ user.traits.plan }}",
		HTML: "<p>Hi {{ user.traits.email }}</p>"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSubscriptionGroup(bg, ws.ID, store.SubscriptionGroup{Key: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
}

// validate posts text to the editor's check as the page's script does.
func validate(t *testing.T, d *profileDash, token, key, text string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.URL+"/dashboard/journeys/validate?key="+url.QueryEscape(key), strings.NewReader(text))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-CSRF-Token", token)
	}
	p := d.C.Do(req)
	var out map[string]any
	_ = json.Unmarshal(p.Body, &out)
	return p.Status, out
}

func TestDashboardJourneyEditor(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	bg := context.Background()
	d.C.MustSignIn()
	list := d.C.Get("/dashboard/journeys")
	if list.Status != 200 || list.Doc.Find("#journeys-empty").Length() != 1 || list.Attr("#new-journey", "href") != "/dashboard/journeys/new" {
		t.Fatalf("empty list: %d %s", list.Status, list.Body)
	}
	for _, id := range []string{"#nav-journeys", "#nav-templates", "#nav-messages"} {
		if list.Doc.Find(id).Length() != 1 {
			t.Errorf("no %s in the navigation", id)
		}
	}
	editor := d.C.Get("/dashboard/journeys/new")
	token := editor.Attr(`#journey-form input[name="csrf_token"]`, "value")
	if editor.Status != 200 || token == "" || !strings.Contains(editor.Text("#journey-json"), `"trigger"`) {
		t.Fatalf("editor: %d %s", editor.Status, editor.Body)
	}

	// As you type: the fault's path and message; nothing is stored.
	code, out := validate(t, d, token, "", nestedJourney)
	if code != 200 || out["ok"] == true || out["path"] != "steps[1].email.template" {
		t.Fatalf("unknown template: %d %v", code, out)
	}
	code, out = validate(t, d, token, "", `{"key":"cart",`)
	if code != 200 || out["ok"] == true || out["error"] == "" {
		t.Fatalf("broken JSON: %d %v", code, out)
	}
	// Without the CSRF header the check is refused.
	if code, _ := validate(t, d, "", "", nestedJourney); code != http.StatusForbidden {
		t.Fatalf("validate without CSRF: %d", code)
	}
	journeyFixtures(t, d.St, d.WS)
	code, out = validate(t, d, token, "", nestedJourney)
	if code != 200 || out["ok"] != true || out["steps"] != 6.0 {
		t.Fatalf("valid: %d %v", code, out)
	}

	// Saving re-validates: a fault answers 422 with its path and keeps the text.
	bad := strings.Replace(nestedJourney, `"group":"news"}},`, `"group":"nope"}},`, 1)
	p := d.C.Submit(editor, "#journey-form", url.Values{"definition": {bad}})
	if p.Status != http.StatusUnprocessableEntity || p.Text("#journey-error-path") != "steps[1].email.group" || p.Text("#journey-json") != bad {
		t.Fatalf("save with a fault: %d path %q: %s", p.Status, p.Text("#journey-error-path"), p.Body)
	}
	if _, err := d.St.Journey(bg, d.WS.ID, "cart"); err != store.ErrNotFound {
		t.Fatalf("a refused journey was stored: %v", err)
	}
	// A forged form (no token) stores nothing.
	if p := d.C.Post("/dashboard/journeys", url.Values{"workspace_id": {d.WS.ID.String()}, "definition": {nestedJourney}}); p.Status != http.StatusForbidden {
		t.Fatalf("create without CSRF: %d", p.Status)
	}
	if _, err := d.St.Journey(bg, d.WS.ID, "cart"); err != store.ErrNotFound {
		t.Fatalf("a forged form stored a journey: %v", err)
	}

	p = d.C.Submit(editor, "#journey-form", url.Values{"definition": {nestedJourney}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/journeys/cart" {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	page := d.C.Follow(p)
	if !strings.Contains(page.Text(".flash"), "Journey cart saved (version 1, disabled)") || page.Doc.Find("#journey-disabled").Length() != 1 {
		t.Fatalf("journey page: %s", page.Body)
	}
	// The tree: top-level steps in order, nested lists inside their step.
	var top []string
	page.Doc.Find("#steps > ol.step-tree > li").Each(func(_ int, s *goquery.Selection) {
		top = append(top, s.AttrOr("data-step", ""))
	})
	if strings.Join(top, ",") != "wait1,nudge,bought,vip" {
		t.Errorf("top-level steps %v", top)
	}
	if page.Doc.Find(`li[data-step="bought"] li[data-step="last"]`).Length() != 1 || page.Doc.Find(`li[data-step="vip"] li[data-step="later"]`).Length() != 1 {
		t.Errorf("nested steps not drawn inside their step: %s", page.Body)
	}
	if got := page.Text(`li[data-step="bought"] > .step-box .step-detail`); !strings.Contains(got, "the event Order Completed (same cartId as the trigger), at most 1d") {
		t.Errorf("waitFor detail %q", got)
	}
	if got := page.Text(`li[data-step="nudge"] > .step-box`); !strings.Contains(got, "email") || !strings.Contains(got, "template welcome, group news") {
		t.Errorf("email step %q", got)
	}
	if page.Text(`li[data-step="wait1"] [data-count="waiting"]`) != "0" || page.Text(`li[data-step="wait1"] [data-count="passed"]`) != "0" {
		t.Errorf("counts of a journey nobody entered")
	}

	// A forged enable (no token) changes nothing.
	if p := d.C.Post("/dashboard/journeys/cart/enable", url.Values{"workspace_id": {d.WS.ID.String()}}); p.Status != http.StatusForbidden {
		t.Fatalf("enable without CSRF: %d", p.Status)
	}
	if r, _ := d.St.Journey(bg, d.WS.ID, "cart"); r.Enabled {
		t.Fatal("a forged form enabled the journey")
	}
	// Enable keeps the version; the list shows the state.
	p = d.C.Submit(page, "#journey-enable-form", nil)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("enable: %d %s", p.Status, p.Body)
	}
	r, err := d.St.Journey(bg, d.WS.ID, "cart")
	if err != nil || !r.Enabled || r.Version != 1 {
		t.Fatalf("after enable: %+v %v", r, err)
	}
	if got := d.C.Get("/dashboard/journeys").Text(`tr[data-journey="cart"] .badge`); got != "enabled" {
		t.Errorf("list state %q", got)
	}
	page = d.C.Follow(p)
	if p := d.C.Submit(page, "#journey-disable-form", nil); p.Status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.Status)
	}
	if r, _ := d.St.Journey(bg, d.WS.ID, "cart"); r.Enabled {
		t.Fatal("still enabled after disable")
	}

	// The edit form shows the definition with its state; a key change is refused.
	edit := d.C.Get("/dashboard/journeys/cart/edit")
	text := edit.Text("#journey-json")
	var def map[string]any
	if err := json.Unmarshal([]byte(text), &def); err != nil || def["enabled"] != false || def["key"] != "cart" {
		t.Fatalf("edit text %v: %s", err, text)
	}
	if code, out := validate(t, d, token, "cart", strings.Replace(text, `"key": "cart"`, `"key": "other"`, 1)); out["path"] != "key" {
		t.Errorf("key change as you type: %d %v", code, out)
	}
	if code, out := validate(t, d, token, "", text); out["path"] != "key" || !strings.Contains(out["error"].(string), "exists") {
		t.Errorf("a taken key for a new journey: %d %v", code, out)
	}
	changed := strings.Replace(text, `"1h"`, `"2h"`, 1)
	if p := d.C.Submit(edit, "#journey-form", url.Values{"definition": {changed}}); p.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", p.Status, p.Body)
	}
	if r, _ := d.St.Journey(bg, d.WS.ID, "cart"); r.Version != 2 || !strings.Contains(r.Definition, `"2h"`) {
		t.Errorf("update stored %+v", r)
	}
	if p := d.C.Get("/dashboard/journeys/nope"); p.Status != 404 {
		t.Errorf("unknown journey: %d", p.Status)
	}
	// The poll's JSON.
	req, _ := http.NewRequest(http.MethodGet, d.URL+"/dashboard/journeys/cart/stats.json", nil)
	sp := d.C.Do(req)
	var stats map[string]any
	if err := json.Unmarshal(sp.Body, &stats); sp.Status != 200 || err != nil || stats["entered"] != 0.0 || stats["waiting"] == nil {
		t.Errorf("stats.json: %d %s", sp.Status, sp.Body)
	}
}

// TestDashboardJourneyHostileInput: huge and deeply nested definitions are
// refused with a clear error, by the check and by the save, and nothing is
// stored.
func TestDashboardJourneyHostileInput(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	bg := context.Background()
	d.C.MustSignIn()
	journeyFixtures(t, d.St, d.WS)
	editor := d.C.Get("/dashboard/journeys/new")
	token := editor.Attr(`#journey-form input[name="csrf_token"]`, "value")

	deep := `{"key":"deep","name":"x","trigger":{"event":{"event":"E"}},"steps":[{"id":"b","branch":{"if":` +
		strings.Repeat(`{"not":`, 300) + `{"trait":"a","op":"exists"}` + strings.Repeat(`}`, 300) + `,"then":[],"else":[]}}]}`
	code, out := validate(t, d, token, "", deep)
	if code != 200 || !strings.Contains(out["error"].(string), "nests more than 256 levels") {
		t.Fatalf("deep, as you type: %d %v", code, out)
	}
	p := d.C.Submit(editor, "#journey-form", url.Values{"definition": {deep}})
	if p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text("#journey-error-msg"), "nests more than 256 levels") {
		t.Fatalf("deep, saved: %d %s", p.Status, p.Text("#journey-error"))
	}
	huge := `{"key":"huge","name":"` + strings.Repeat("x", 100<<10) + `"}`
	if code, _ := validate(t, d, token, "", huge); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("huge, as you type: %d", code)
	}
	p = d.C.Submit(editor, "#journey-form", url.Values{"definition": {huge}})
	if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(string(p.Body), "too large") {
		t.Fatalf("huge, saved: %d", p.Status)
	}
	// Too many steps: the parser's own bound, with its path.
	var steps []string
	for i := 0; i < 101; i++ {
		steps = append(steps, fmt.Sprintf(`{"id":"s%d","wait":"1h"}`, i))
	}
	many := `{"key":"many","name":"x","trigger":{"event":{"event":"E"}},"steps":[` + strings.Join(steps, ",") + `]}`
	p = d.C.Submit(editor, "#journey-form", url.Values{"definition": {many}})
	if p.Status != http.StatusUnprocessableEntity || p.Text("#journey-error-path") != "steps" {
		t.Fatalf("101 steps: %d %q %q", p.Status, p.Text("#journey-error-path"), p.Text("#journey-error-msg"))
	}
	rows, err := d.St.Journeys(bg, d.WS.ID)
	if err != nil || len(rows) != 0 {
		t.Fatalf("hostile input stored journeys: %v %v", rows, err)
	}
}

func TestDashboardTemplateForm(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	bg := context.Background()
	d.C.MustSignIn()
	d.send(ev("identify", "t-1", "2026-04-01T09:00:00Z", `"userId":"ann","traits":{"email":"ann@example.com","name":"Ann <3"}`))
	form := d.C.Get("/dashboard/templates/new")
	if form.Status != 200 || form.Doc.Find("#template-form #template-key").Length() != 1 {
		t.Fatalf("new template: %d", form.Status)
	}
	// A Liquid syntax error is refused with its part and line; nothing is stored.
	p := d.C.Submit(form, "#template-form", url.Values{"key": {"hello"}, "subject": {"Hi"}, "html": {"<p>a</p>\r\n{% if user %}\r\n<p>b</p>"}})
	if p.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(p.Text("#fault-html"), "Line 2:") || p.Attr("#template-key", "value") != "hello" {
		t.Fatalf("syntax error: %d %q %s", p.Status, p.Text("#fault-html"), p.Text("#template-error"))
	}
	if _, err := d.St.EmailTemplate(bg, d.WS.ID, "hello"); err != store.ErrNotFound {
		t.Fatalf("refused template stored: %v", err)
	}
	if p := d.C.Post("/dashboard/templates", url.Values{"workspace_id": {d.WS.ID.String()}, "key": {"hello"}, "subject": {"x"}, "html": {"x"}}); p.Status != http.StatusForbidden {
		t.Fatalf("create without CSRF: %d", p.Status)
	}
	p = d.C.Submit(form, "#template-form", url.Values{"key": {"hello"}, "subject": {"Hi {{ user.traits.name }}"},
		"html": {"<p>Hello {{ user.traits.name }}</p>"}, "transactional": {"true"}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/templates/hello" {
		t.Fatalf("save: %d %s", p.Status, p.Body)
	}
	tpl, err := d.St.EmailTemplate(bg, d.WS.ID, "hello")
	if err != nil || !tpl.Transactional || tpl.Subject != "Hi {{ user.traits.name }}" {
		t.Fatalf("stored %+v %v", tpl, err)
	}
	// A taken key is refused.
	if p := d.C.Submit(form, "#template-form", url.Values{"key": {"hello"}, "subject": {"x"}, "html": {"x"}}); p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Text("#fault-key"), "exists") {
		t.Errorf("taken key: %d", p.Status)
	}
	// Preview for a user: the HTML escapes the trait.
	pv := d.C.Get("/dashboard/templates/hello?userId=ann")
	if pv.Text("#preview-subject") != "Hi Ann <3" || !strings.Contains(pv.Text("#preview-html"), "Hello Ann &lt;3") {
		t.Fatalf("preview: %q %q", pv.Text("#preview-subject"), pv.Text("#preview-html"))
	}
	if pv := d.C.Get("/dashboard/templates/hello?userId=nobody"); !strings.Contains(pv.Text("#preview-error"), "No profile") {
		t.Errorf("preview for nobody: %q", pv.Text("#preview-error"))
	}
	// Edit: the key stays, the content changes.
	edit := d.C.Get("/dashboard/templates/hello")
	if p := d.C.Submit(edit, "#template-form", url.Values{"subject": {"Bye"}, "html": {"<p>bye</p>"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("update: %d %s", p.Status, p.Body)
	}
	if tpl, _ := d.St.EmailTemplate(bg, d.WS.ID, "hello"); tpl.Subject != "Bye" || tpl.Transactional {
		t.Errorf("updated %+v", tpl)
	}
	if got := d.C.Get("/dashboard/templates").Text(`li[data-template="hello"]`); !strings.Contains(got, "Bye") {
		t.Errorf("list %q", got)
	}
}

// runJourneys sends the workspace's email through a real SMTP server and
// runs the journey engine, as `inlet serve` does.
func runJourneys(t *testing.T, d *profileDash) *smtptest.Server {
	t.Helper()
	bg := context.Background()
	mailer := smtptest.Start(t)
	if err := d.St.SaveEmailSettings(bg, d.WS.ID, store.EmailSettings{Host: mailer.Host, Port: mailer.Port, TLSMode: config.TLSNone,
		FromAddress: "shop@example.com"}, false); err != nil {
		t.Fatal(err)
	}
	eng := journeys.New(d.St, &email.Service{Store: d.St, BaseURL: "http://inlet.test"}, journeys.Options{Poll: 50 * time.Millisecond, BehindProfiles: true})
	eng.Start(bg)
	t.Cleanup(eng.Close)
	return mailer
}

func TestDashboardMessagesLog(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	bg := context.Background()
	journeyFixtures(t, d.St, d.WS)
	mailer := runJourneys(t, d)
	mailer.Refuse("gone@example.com", 550, "no such mailbox")
	def := `{"key":"hi","name":"Hi","trigger":{"event":{"event":"Signed Up"}},"steps":[{"id":"mail","email":{"template":"welcome","group":"news"}}]}`
	if _, err := d.St.CreateJourney(bg, d.WS.ID, "hi", def, true); err != nil {
		t.Fatal(err)
	}
	if err := journeys.Prime(bg, d.St, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	d.send(ev("identify", "m-1", "2026-04-01T09:00:00Z", `"userId":"ok","traits":{"email":"ok@example.com"}`),
		ev("identify", "m-2", "2026-04-01T09:00:01Z", `"userId":"gone","traits":{"email":"gone@example.com"}`),
		ev("identify", "m-3", "2026-04-01T09:00:02Z", `"userId":"none","traits":{}`),
		ev("track", "m-4", "2026-04-01T09:01:00Z", `"userId":"ok","event":"Signed Up"`),
		ev("track", "m-5", "2026-04-01T09:01:01Z", `"userId":"gone","event":"Signed Up"`),
		ev("track", "m-6", "2026-04-01T09:01:02Z", `"userId":"none","event":"Signed Up"`))
	testutil.WaitWithin(t, 30*time.Second, "three messages settled", func() bool {
		n := 0
		for _, s := range []string{"sent", "bounced", "skipped"} {
			ms, err := d.St.Messages(bg, d.WS.ID, store.MessageFilter{Status: s, Limit: 10})
			if err == nil {
				n += len(ms)
			}
		}
		return n == 3
	})
	d.C.MustSignIn()
	p := d.C.Get("/dashboard/messages")
	if p.Status != 200 || p.Doc.Find("#messages tbody tr").Length() != 3 {
		t.Fatalf("log: %d %s", p.Status, p.Body)
	}
	if got := p.Text(`#messages td.msg-status[data-status="skipped"]`); !strings.Contains(got, "no_email") {
		t.Errorf("skipped %q", got)
	}
	if got := p.Text(`#messages tr:has(td.msg-status[data-status="bounced"]) code.reply`); !strings.Contains(got, "550") {
		t.Errorf("bounced reply %q", got)
	}
	if got := p.Text(`#messages tr:has(td.msg-status[data-status="sent"])`); !strings.Contains(got, "hi · mail") || !strings.Contains(got, "welcome") {
		t.Errorf("sent row %q", got)
	}
	// Filters.
	if f := d.C.Get("/dashboard/messages?status=sent"); f.Doc.Find("#messages tbody tr").Length() != 1 || f.Attr(`#filter-status option[selected]`, "value") != "sent" {
		t.Errorf("status filter: %s", f.Body)
	}
	if f := d.C.Get("/dashboard/messages?userId=gone&journey=hi"); f.Doc.Find("#messages tbody tr").Length() != 1 {
		t.Errorf("user filter")
	}
	if f := d.C.Get("/dashboard/messages?journey=other"); f.Doc.Find("#messages-empty").Length() != 1 {
		t.Errorf("journey filter")
	}
	for _, bad := range []string{"status=nope", "before=x", "before=-1", "userId=" + url.QueryEscape(strings.Repeat("x", 2000))} {
		if f := d.C.Get("/dashboard/messages?" + bad); f.Status != 400 {
			t.Errorf("%s: %d, want 400", bad, f.Status)
		}
	}
	// Keyset paging: pages of two, then the last one; filters stay.
	first := d.C.Get("/dashboard/messages?limit=2&journey=hi")
	next := first.Attr("#messages-next", "href")
	if first.Doc.Find("#messages tbody tr").Length() != 2 || !strings.Contains(next, "limit=2") || !strings.Contains(next, "journey=hi") {
		t.Fatalf("first page of two: next %q", next)
	}
	second := d.C.Get(next)
	if second.Doc.Find("#messages tbody tr").Length() != 1 || second.Doc.Find("#messages-next").Length() != 0 || second.Doc.Find("#messages-newest").Length() != 1 {
		t.Errorf("last page: %s", second.Text("#messages"))
	}
	older, _ := strconv.ParseInt(second.Attr("#messages tbody tr", "data-message"), 10, 64)
	last, _ := strconv.ParseInt(first.Attr("#messages tbody tr:last-child", "data-message"), 10, 64)
	if older == 0 || older >= last {
		t.Errorf("the second page (%d) is not older than the first (%d)", older, last)
	}
	if f := d.C.Get("/dashboard/messages?limit=0"); f.Status != 400 {
		t.Errorf("limit=0: %d", f.Status)
	}
	// Before the newest id leaves the older two.
	newest := p.Attr("#messages tbody tr", "data-message")
	if f := d.C.Get("/dashboard/messages?before=" + newest); f.Doc.Find("#messages tbody tr").Length() != 2 || f.Doc.Find(`tr[data-message="`+newest+`"]`).Length() != 0 {
		t.Errorf("paging before %s: %s", newest, f.Body)
	}
	// The bounced address is listed and can be lifted.
	if p.Doc.Find(`#bounces li[data-bounce="gone@example.com"]`).Length() != 1 {
		t.Fatalf("bounce not listed: %s", p.Text("#bounces"))
	}
	if f := d.C.Post("/dashboard/messages/bounces/lift", url.Values{"workspace_id": {d.WS.ID.String()}, "address": {"gone@example.com"}}); f.Status != http.StatusForbidden {
		t.Fatalf("lift without CSRF: %d", f.Status)
	}
	if b, _ := d.St.Bounced(bg, d.WS.ID, "gone@example.com"); !b {
		t.Fatal("a forged form lifted the bounce")
	}
	lift := d.C.Submit(p, `#bounces li[data-bounce="gone@example.com"] form`, nil)
	if lift.Status != http.StatusSeeOther {
		t.Fatalf("lift: %d %s", lift.Status, lift.Body)
	}
	if after := d.C.Follow(lift); after.Doc.Find("#bounces-empty").Length() != 1 || !strings.Contains(after.Text(".flash"), "no longer suppressed") {
		t.Errorf("after lift: %s", after.Text("#bounces"))
	}
	if b, _ := d.St.Bounced(bg, d.WS.ID, "gone@example.com"); b {
		t.Error("still suppressed")
	}
	// The profile lists the user's journey and message.
	prof := d.C.Get("/dashboard/users/ok")
	if got := prof.Text(`#journeys-section li[data-journey="hi"]`); !strings.Contains(got, "completed at") {
		t.Errorf("profile journey %q", got)
	}
	if prof.Doc.Find(`#messages td.msg-status[data-status="sent"]`).Length() != 1 || prof.Attr("#user-messages-link", "href") != "/dashboard/messages?userId=ok" {
		t.Errorf("profile messages: %s", prof.Text("#messages"))
	}
}
