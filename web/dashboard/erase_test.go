package dashboard_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"github.com/inlet-dev/inlet/internal/testutil"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web/webtest"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// messageIDs lists the messageIds of the stored events of ws carrying id
// (as userId or anonymousId), sorted.
func (p *profileDash) messageIDs(id string) []string {
	p.T.Helper()
	page, err := p.St.ListEvents(context.Background(), store.EventFilter{WorkspaceID: p.WS.ID, User: id, Limit: 500})
	if err != nil {
		p.T.Fatal(err)
	}
	var out []string
	for _, e := range page.Events {
		out = append(out, e.MessageID)
	}
	sort.Strings(out)
	return out
}

// tracking posts one body to a Tracking API path with the write key and
// returns the status.
func (p *profileDash) tracking(path, body string) int {
	p.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.writeKey+":")))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.T.Fatal(err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode
}

// webhook posts a signed body to the Segment webhook and decodes the answer.
func (p *profileDash) webhook(secret, body string) webtest.HookReply {
	p.T.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/public/webhooks/segment", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign([]byte(secret), []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.T.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r webtest.HookReply
	if err := json.Unmarshal(raw, &r); err != nil {
		p.T.Fatalf("webhook answer %d is not JSON: %q", res.StatusCode, raw)
	}
	r.Status = res.StatusCode
	return r
}

func equalIDs(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") }

// A shared device: one anonymous id seen first with alice, then with bob.
// Erasing alice takes alice's events and the device's anonymous-only
// events, and nothing of bob's, now or later; the page, the confirmation
// and the answer agree on the number. Later events carrying an erased id
// (userId, anonymous-only, or an alias's previousId) are suppressed on
// every ingest path and counted as such, not as duplicates.
func TestEraseTakesExactlyOnePerson(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := context.Background()
	d.send(
		ev("identify", "a-1", "2026-01-01T10:00:00Z", `"userId":"alice","anonymousId":"dev-1","traits":{"email":"alice@example.com"}`),
		ev("track", "a-2", "2026-01-01T10:01:00Z", `"userId":"alice","event":"Bought"`),
		ev("alias", "a-3", "2026-01-01T10:02:00Z", `"userId":"alice","previousId":"alice-old"`),
		ev("track", "dev-1", "2026-01-01T09:00:00Z", `"anonymousId":"dev-1","event":"Browsed"`),
		ev("track", "dev-2", "2026-01-01T09:01:00Z", `"anonymousId":"dev-1","event":"Browsed"`),
		ev("track", "dev-3", "2026-01-01T11:00:00Z", `"anonymousId":"dev-1","userId":"undefined","event":"Browsed"`),
		ev("identify", "b-1", "2026-01-02T10:00:00Z", `"userId":"bob","anonymousId":"dev-1","traits":{"email":"bob@example.com"}`),
		ev("track", "b-2", "2026-01-02T10:01:00Z", `"userId":"bob","anonymousId":"dev-1","event":"Bought"`),
		ev("track", "b-3", "2026-01-02T10:02:00Z", `"userId":"bob","event":"Bought"`),
		ev("track", "c-1", "2026-01-02T10:03:00Z", `"userId":"carol","anonymousId":"dev-9","event":"Bought"`),
	)
	bobBefore := d.messageIDs("bob")
	if len(bobBefore) != 3 {
		t.Fatalf("bob's events before: %v", bobBefore)
	}
	aliceWill := []string{"a-1", "a-2", "a-3", "dev-1", "dev-2", "dev-3"}

	b := d.NewBrowser()
	b.MustSignIn()
	pg := b.Get("/dashboard/users/alice")
	if pg.Status != 200 {
		t.Fatalf("alice's page: %d", pg.Status)
	}
	listed := timelineMessageIDs(pg)
	if !equalIDs(listed, aliceWill) {
		t.Errorf("alice's timeline lists %v, want %v (bob's events with the shared device are bob's)", listed, aliceWill)
	}
	if got := pg.Text("#delete-count"); got != "6" {
		t.Errorf("confirmation count %q, want 6", got)
	}
	var users []string
	pg.Doc.Find("#delete-userids .delete-userid").Each(func(_ int, s *goquery.Selection) { users = append(users, strings.TrimSpace(s.Text())) })
	if !equalIDs(users, []string{"alice", "alice-old"}) {
		t.Errorf("confirmation userIds %v, want alice and alice-old", users)
	}
	if c := pg.Attr("#delete-form", "data-confirm"); !strings.Contains(c, "6 events") || !strings.Contains(c, "alice-old") {
		t.Errorf("confirm dialog %q", c)
	}
	if bobPage := b.Get("/dashboard/users/bob"); !equalIDs(timelineMessageIDs(bobPage), bobBefore) {
		t.Errorf("bob's timeline %v, want %v", timelineMessageIDs(bobPage), bobBefore)
	}

	del := b.Follow(b.Submit(pg, "#delete-form", url.Values{"suppress": {"yes"}, "confirm": {"yes"}}))
	if !strings.Contains(del.Text("#flash"), "and 6 events") {
		t.Errorf("erasure answer %q, want 6 events", del.Text("#flash"))
	}
	if got := d.messageIDs("bob"); !equalIDs(got, bobBefore) {
		t.Errorf("bob lost events: %v, want %v", got, bobBefore)
	}
	if got := d.messageIDs("carol"); len(got) != 1 {
		t.Errorf("carol's events: %v", got)
	}
	for _, id := range []string{"alice", "alice-old"} {
		if got := d.messageIDs(id); len(got) != 0 {
			t.Errorf("events of %s left: %v", id, got)
		}
	}
	if got := d.messageIDs("dev-1"); !equalIDs(got, []string{"b-1", "b-2"}) {
		t.Errorf("events with the shared device left: %v, want only bob's b-1 b-2", got)
	}
	if bobPage := b.Get("/dashboard/users/bob"); bobPage.Status != 200 || !equalIDs(timelineMessageIDs(bobPage), bobBefore) {
		t.Errorf("bob's page after alice's erasure: %d %v", bobPage.Status, timelineMessageIDs(bobPage))
	}

	// Later: bob on the shared device is kept; anonymous-only events of
	// the device, alice's own, and aliases naming an erased id are not,
	// on the Tracking API's batch and alias calls and on the webhook.
	d.send(
		ev("track", "b-late", "2026-02-01T10:00:00Z", `"userId":"bob","anonymousId":"dev-1","event":"Back"`),
		ev("track", "dev-late", "2026-02-01T10:01:00Z", `"anonymousId":"dev-1","event":"Browsed"`),
		ev("track", "a-late", "2026-02-01T10:02:00Z", `"userId":"alice","event":"Back"`),
		ev("alias", "m-alias-batch", "2026-02-01T10:03:00Z", `"userId":"mallory","previousId":"alice"`),
	)
	if code := d.tracking("/v1/alias", ev("alias", "m-alias-1", "2026-02-01T10:04:00Z", `"userId":"mallory","previousId":"dev-1"`)); code != 200 {
		t.Fatalf("/v1/alias: %d", code)
	}
	if code := d.tracking("/v1/alias", ev("alias", "m-alias-2", "2026-02-01T10:05:00Z", `"userId":"mallory","previousId":"alice-old"`)); code != 200 {
		t.Fatalf("/v1/alias: %d", code)
	}
	const secret = "erase-test-secret-0123456789"
	if err := d.St.SetSecret(ctx, d.WS.ID, secret, "test", 0); err != nil {
		t.Fatal(err)
	}
	d.Srv.InvalidateWorkspace()
	r := d.webhook(secret, `[`+ev("alias", "m-alias-hook", "2026-02-01T10:06:00Z", `"userId":"mallory","previousId":"alice"`)+`,`+
		ev("track", "a-hook", "2026-02-01T10:07:00Z", `"userId":"alice","event":"Back"`)+`,`+
		ev("track", "b-hook", "2026-02-01T10:08:00Z", `"userId":"bob","anonymousId":"dev-1","event":"Back"`)+`]`)
	if r.Status != 200 || r.Accepted != 1 || r.Suppressed != 2 || r.Duplicates != 0 {
		t.Errorf("webhook answer %+v, want 1 accepted, 2 suppressed, 0 duplicates", r)
	}
	if r := d.webhook(secret, ev("track", "a-hook-2", "2026-02-01T10:09:00Z", `"userId":"alice","event":"Back"`)); r.Accepted != 0 || r.Suppressed != 1 || r.Duplicates != 0 {
		t.Errorf("webhook answer for an erased user %+v, want suppressed 1", r)
	}
	if _, err := d.follower.CatchUp(ctx, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := d.messageIDs("bob"), append(append([]string{}, bobBefore...), "b-hook", "b-late"); !equalIDs(got, sorted(want)) {
		t.Errorf("bob's events after: %v, want %v", got, sorted(want))
	}
	for _, id := range []string{"alice", "alice-old", "mallory"} {
		if got := d.messageIDs(id); len(got) != 0 {
			t.Errorf("events of %s stored after the erasure: %v", id, got)
		}
	}
	if got := d.messageIDs("dev-1"); !equalIDs(got, sorted([]string{"b-1", "b-2", "b-late", "b-hook"})) {
		t.Errorf("events with the shared device: %v", got)
	}
	// The erased ids answer no profile: the shared device's id did not
	// become one of bob's identities, and no alias brought alice back.
	for _, path := range []string{"/dashboard/users/alice", "/dashboard/users/alice-old", "/dashboard/anonymous/dev-1", "/dashboard/users/mallory"} {
		if pg := b.Get(path); pg.Doc.Find("#no-profile").Length() != 1 {
			t.Errorf("%s answers a profile after the erasure (status %d)", path, pg.Status)
		}
	}
	// The connection status counts them as suppressed, not as duplicates.
	settings := b.Get("/dashboard/settings")
	// 3 in the batch, 2 aliases, 2 + 1 on the webhook.
	if got := settings.Text("#hour-suppressed"); !strings.HasPrefix(got, "8 ") {
		t.Errorf("connection status suppressed %q, want 8", got)
	}
	if got := settings.Text("#hour-duplicates"); !strings.HasPrefix(got, "0") {
		t.Errorf("connection status duplicates %q, want 0", got)
	}
}

// timelineMessageIDs reads the messageIds a profile page's timeline lists.
func timelineMessageIDs(p webtest.Page) []string {
	var out []string
	p.Doc.Find("#timeline .message-id").Each(func(_ int, s *goquery.Selection) { out = append(out, strings.TrimSpace(s.Text())) })
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	sort.Strings(out)
	return out
}

// Segment's deletion request (the byte-exact fixture, with its signature)
// erases its user: the answer comes once the erasure is done, the record
// says source segment, later events are suppressed, and the call itself is
// not stored. With the workspace's setting off, the call is an ordinary
// event again and erases no one.
func TestSegmentDeleteCallErasesItsUser(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := context.Background()
	fx := webtest.Fixtures(t)
	if err := d.St.SetSecret(ctx, d.WS.ID, webtest.FixtureSecret, "test", 0); err != nil {
		t.Fatal(err)
	}
	d.Srv.InvalidateWorkspace()
	d.send(
		ev("identify", "u-1", "2026-11-20T10:00:00Z", `"userId":"user_8812","anonymousId":"dev-8812","traits":{"email":"u@example.com"}`),
		ev("track", "u-2", "2026-11-20T10:01:00Z", `"anonymousId":"dev-8812","event":"Browsed"`),
		ev("track", "o-1", "2026-11-20T10:02:00Z", `"userId":"other","event":"Bought"`),
	)
	del := fx["delete.json"]
	r := d.webhook(webtest.FixtureSecret, string(del.Body))
	if r.Status != 200 || r.Erased != 1 || r.Accepted != 0 {
		t.Fatalf("delete call: %+v", r)
	}
	// Done when the answer comes (well within Segment's 10 s).
	for _, id := range []string{"user_8812", "dev-8812"} {
		if got := d.messageIDs(id); len(got) != 0 {
			t.Errorf("events of %s left after the delete call: %v", id, got)
		}
	}
	if got := d.messageIDs("other"); len(got) != 1 {
		t.Errorf("another user's events: %v", got)
	}
	if _, err := d.St.EventByMessageID(ctx, d.WS.ID, "delete-5f1e"); err == nil {
		t.Error("the delete call was stored (and so would be forwarded)")
	}
	erasures, err := d.St.Erasures(ctx, d.WS.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(erasures) != 1 || erasures[0].Source != "segment" || !erasures[0].Suppressed || erasures[0].EventsDeleted != 2 || erasures[0].FinishedAt == nil {
		t.Fatalf("erasure record: %+v", erasures)
	}
	if r := d.webhook(webtest.FixtureSecret, ev("track", "u-late", "2026-11-22T10:00:00Z", `"userId":"user_8812","event":"Back"`)); r.Suppressed != 1 {
		t.Errorf("later event of the erased user: %+v", r)
	}

	// The setting, turned off on the settings page: delete calls are stored.
	b := d.NewBrowser()
	b.MustSignIn()
	settings := b.Get("/dashboard/settings")
	if settings.Doc.Find("#segment-deletes[checked]").Length() != 1 {
		t.Fatal("the setting is not shown on, its default")
	}
	b.Follow(b.Submit(settings, "#segment-deletes-form", url.Values{"enabled": {""}}))
	if after := b.Get("/dashboard/settings"); after.Doc.Find("#segment-deletes[checked]").Length() != 0 {
		t.Fatal("the setting did not turn off")
	}
	off := ev("delete", "delete-off", "2026-11-23T10:00:00Z", `"userId":"other"`)
	if r := d.webhook(webtest.FixtureSecret, off); r.Status != 200 || r.Accepted != 1 || r.Erased != 0 {
		t.Fatalf("delete call with the setting off: %+v", r)
	}
	if got := d.messageIDs("other"); len(got) != 2 {
		t.Errorf("with the setting off the user was erased or the call not stored: %v", got)
	}
}

// echoReceiver is a destination's endpoint that answers with the body it
// got (receivers often echo the event), failing until up is set.
type echoReceiver struct {
	mu   sync.Mutex
	up   bool
	hits []echoHit
}

type echoHit struct {
	body   string
	status int
}

func (r *echoReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	status := http.StatusInternalServerError
	if r.up {
		status = http.StatusOK
	}
	r.hits = append(r.hits, echoHit{string(body), status})
	r.mu.Unlock()
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (r *echoReceiver) setUp() {
	r.mu.Lock()
	r.up = true
	r.mu.Unlock()
}

// got counts the hits whose body holds s, and how many of them were 2xx.
func (r *echoReceiver) got(s string) (all, ok int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, h := range r.hits {
		if strings.Contains(h.body, s) {
			all++
			if h.status < 300 {
				ok++
			}
		}
	}
	return all, ok
}

// An erasure removes what a destination kept of the person (a receiver's
// echo in the attempts shown on the destination's page) and nothing of the
// person is delivered once it has answered: the pending retries of their
// events are dropped while another user's are delivered.
func TestEraseReachesDestinations(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := context.Background()
	rcv := &echoReceiver{}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	dest, err := d.St.CreateDestination(ctx, store.NewDestination{WorkspaceID: d.WS.ID, Name: "echo", URL: hook.URL, Secret: delivery.NewSecret()})
	if err != nil {
		t.Fatal(err)
	}
	m := delivery.New(d.St, delivery.Options{Concurrency: 4, Window: 100, Timeout: 2 * time.Second,
		Retry:    delivery.Policy{Schedule: []time.Duration{50 * time.Millisecond, 100 * time.Millisecond}, RetryFor: time.Hour},
		LeaseTTL: 3 * time.Second, Poll: 20 * time.Millisecond, Rescan: 50 * time.Millisecond, Suppressed: d.supp.Check, Logger: webtest.Logger(t)})
	m.Start(ctx)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Close(cctx)
	})
	d.send(
		ev("track", "a-1", "2026-01-01T10:00:00Z", `"userId":"alice","anonymousId":"dev-a","event":"Bought","properties":{"card":"alice-card-4242"}`),
		ev("track", "a-2", "2026-01-01T10:01:00Z", `"anonymousId":"dev-a","event":"Browsed","properties":{"card":"alice-card-4242"}`),
		ev("track", "b-1", "2026-01-01T10:02:00Z", `"userId":"bob","event":"Bought"`),
	)
	attemptsWith := func(s string) int {
		as, err := d.St.DestinationAttempts(ctx, dest.ID, 200)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range as {
			if strings.Contains(a.Response, s) {
				n++
			}
		}
		return n
	}
	testutil.WaitWithin(t, 20*time.Second, "the receiver's echo of alice's events in the attempts", func() bool {
		all, _ := rcv.got("alice-card-4242")
		return all >= 2 && attemptsWith("alice-card-4242") >= 2
	})

	b := d.NewBrowser()
	b.MustSignIn()
	pg := b.Get("/dashboard/users/alice")
	if del := b.Submit(pg, "#delete-form", url.Values{"suppress": {"yes"}, "confirm": {"yes"}}); del.Status != 303 {
		t.Fatalf("erase: %d", del.Status)
	}
	if n := attemptsWith("alice-card-4242"); n != 0 {
		t.Errorf("%d stored attempts still hold the receiver's echo of alice's events", n)
	}
	if page := b.Get("/dashboard/destinations/" + dest.ID.String()); strings.Contains(string(page.Body), "alice-card-4242") {
		t.Error("the destination's page shows alice's data after the erasure")
	}
	// The receiver comes back: bob's retry and a new event arrive, alice's
	// pending retries never do.
	rcv.setUp()
	d.send(ev("track", "b-2", "2026-01-02T10:00:00Z", `"userId":"bob","event":"Back"`))
	testutil.WaitWithin(t, 20*time.Second, "bob's events delivered and no retry left", func() bool {
		_, ok1 := rcv.got(`"b-1"`)
		_, ok2 := rcv.got(`"b-2"`)
		stats, err := d.St.DestinationStats(ctx, dest)
		return err == nil && ok1 > 0 && ok2 > 0 && stats.Retrying == 0
	})
	if _, ok := rcv.got("alice-card-4242"); ok != 0 {
		t.Errorf("alice's events were delivered %d times after the erasure answered", ok)
	}
}

// A destination created with the erasure notice ticked gets, after an
// erasure through the API, a POST signed with its secret (verified with the
// Standard Webhooks reference library) naming the erased ids; the API's
// answer reports the number of events the profile page listed.
func TestErasureNoticeAndAPIAnswer(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := context.Background()
	var mu sync.Mutex
	var notices []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"type":"erasure"`) {
			mu.Lock()
			notices, bodies = append(notices, r), append(bodies, b)
			mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(recv.Close)
	b := d.NewBrowser()
	b.MustSignIn()
	created := b.Submit(b.Get("/dashboard/destinations"), "#destination-form", url.Values{"url": {recv.URL + "/forget"}, "erasure_notice": {"yes"}})
	secret := created.Attr("#new-secret", "value")
	if created.Status != 200 || secret == "" {
		t.Fatalf("create destination: %d", created.Status)
	}
	d.send(
		ev("identify", "e-1", "2026-01-01T10:00:00Z", `"userId":"erin","anonymousId":"dev-e"`),
		ev("track", "e-2", "2026-01-01T10:01:00Z", `"anonymousId":"dev-e","event":"Browsed"`),
		ev("track", "f-1", "2026-01-01T10:02:00Z", `"userId":"frank","anonymousId":"dev-e","event":"Browsed"`),
	)
	listed := timelineMessageIDs(b.Get("/dashboard/users/erin"))
	if !equalIDs(listed, []string{"e-1", "e-2"}) {
		t.Fatalf("erin's timeline %v", listed)
	}
	_, token, err := d.St.CreateAPIToken(ctx, d.WS.ID, "eraser", store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, d.URL+"/api/v1/users/erin", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		ErasureID     string `json:"erasureId"`
		EventsDeleted int    `json:"eventsDeleted"`
	}
	if err := json.NewDecoder(res.Body).Decode(&answer); err != nil || res.StatusCode != 200 {
		t.Fatalf("DELETE: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	if answer.EventsDeleted != len(listed) {
		t.Errorf("the API answered %d events deleted; the page listed %d", answer.EventsDeleted, len(listed))
	}
	if got := d.messageIDs("frank"); !equalIDs(got, []string{"f-1"}) {
		t.Errorf("frank's events: %v", got)
	}
	testutil.WaitWithin(t, 20*time.Second, "the erasure notice", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(notices) > 0
	})
	mu.Lock()
	r, body := notices[0], bodies[0]
	mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(body, r.Header); err != nil {
		t.Errorf("notice signature: %v", err)
	}
	var n struct {
		Type         string   `json:"type"`
		UserID       string   `json:"userId"`
		AnonymousIDs []string `json:"anonymousIds"`
		ErasureID    string   `json:"erasureId"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	if n.Type != "erasure" || n.UserID != "erin" || !equalIDs(n.AnonymousIDs, []string{"dev-e"}) || n.ErasureID != answer.ErasureID {
		t.Errorf("notice %s (erasure %s)", body, answer.ErasureID)
	}
}

// An id too long to be an identity is kept in the list of refused ids; an
// erasure of that id removes it from there too, not only its events.
func TestEraseScrubsRefusedIDs(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := context.Background()
	long := "long-" + strings.Repeat("x", 210)
	d.send(ev("track", "l-1", "2026-01-01T10:00:00Z", `"userId":"`+long+`","event":"Bought"`),
		ev("track", "k-1", "2026-01-01T10:00:00Z", `"userId":"undefined","event":"Bought"`))
	refused := func() map[string]bool {
		rs, err := d.St.RefusedIDs(ctx, d.WS.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, r := range rs {
			out[r.Value] = true
		}
		return out
	}
	if r := refused(); !r[long] || !r["undefined"] {
		t.Fatalf("refused ids before: %v", r)
	}
	_, token, err := d.St.CreateAPIToken(ctx, d.WS.ID, "eraser", store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, d.URL+"/api/v1/users/"+long, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("DELETE: %d", res.StatusCode)
	}
	if r := refused(); r[long] || !r["undefined"] {
		t.Errorf("refused ids after erasing the long id: %v (want it gone, the others kept)", r)
	}
	if got := d.messageIDs(long); len(got) != 0 {
		t.Errorf("events of the erased id: %v", got)
	}
}
