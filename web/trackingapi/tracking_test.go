package trackingapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

func TestTrackingSingleCalls(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	bodies := map[string]string{
		"track":    `{"userId":"u1","event":"Signed Up","properties":{"plan":"team"}`,
		"identify": `{"userId":"u1","traits":{"email":"ada@example.com"}`,
		"page":     `{"anonymousId":"a1","name":"Pricing"`,
		"screen":   `{"userId":"u1","name":"Home"`,
		"group":    `{"userId":"u1","groupId":"g1"`,
		"alias":    `{"userId":"u1","previousId":"a1"`,
	}
	short := map[string]string{"track": "t", "identify": "i", "page": "p", "screen": "s", "group": "g", "alias": "a"}
	for typ, fields := range bodies {
		for _, path := range []string{"/v1/" + typ, "/v1/" + short[typ]} {
			// curl users leave type out: it comes from the path.
			id := "no-type" + strings.ReplaceAll(path, "/", "-")
			r := a.Post(path, []byte(fmt.Sprintf(`%s,"messageId":%q}`, fields, id)), a.Auth()...)
			webtest.MustTrackingOK(t, path+" without type", r)
			ev := a.Stored(id)
			if ev.Type != typ || ev.Source != "http_api" || ev.SourceKey != a.Key.ID.String() {
				t.Errorf("%s: stored type=%q source=%q key=%q", path, ev.Type, ev.Source, ev.SourceKey)
			}
			if !bytes.HasPrefix(ev.Raw, []byte(`{"type":"`+typ+`",`)) {
				t.Errorf("%s: type must be spliced in front, the rest kept as sent: %s", path, ev.Raw)
			}
			// Segment's libraries send type; it must match the path.
			id = "typed" + strings.ReplaceAll(path, "/", "-")
			body := fmt.Sprintf(`{"type":%q,%s,"messageId":%q}`, typ, fields[1:], id)
			webtest.MustTrackingOK(t, path+" with type", a.Post(path, []byte(body), a.Auth()...))
			if got := a.Stored(id).Raw; string(got) != body {
				t.Errorf("%s: raw must be stored byte-exact, got %s", path, got)
			}
		}
	}
	before := a.Count()
	webtest.MustTrackingRefuse(t, "type contradicting the path", a.Post("/v1/track", []byte(`{"type":"identify","userId":"u1"}`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "null type", a.Post("/v1/identify", []byte(`{"type":null,"userId":"u1"}`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "invalid JSON", a.Post("/v1/track", []byte(`{"userId":`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "array on a single endpoint", a.Post("/v1/track", []byte(`[{"event":"x","userId":"u"}]`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "batch on a single endpoint", a.Post("/v1/track", []byte(`{"batch":[]}`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "track without event", a.Post("/v1/track", []byte(`{"userId":"u1"}`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "empty object", a.Post("/v1/t", []byte(` { } `), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "delete through the API", a.Post("/v1/batch", []byte(`{"batch":[{"type":"delete","userId":"u1"}]}`), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "single event on batch", a.Post("/v1/batch", []byte(webtest.TrackJSON("x", 0)), a.Auth()...), 400)
	webtest.MustTrackingRefuse(t, "null body", a.Post("/v1/batch", []byte(`null`), a.Auth()...), 400)
	if a.Count() != before {
		t.Fatal("a refused call stored something")
	}
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/v1/track", nil)
	if r := a.Do(req); r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusNotFound {
		t.Fatalf("GET /v1/track: %d", r.Status)
	}
}

func TestTrackingAuth(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	ev := func(id string) []byte { return []byte(webtest.TrackJSON(id, 0)) }

	webtest.MustTrackingOK(t, "Basic auth", a.Post("/v1/track", ev("basic"), a.Auth()...))
	withKey := fmt.Sprintf(`{"writeKey":%q,%s`, a.Raw, webtest.TrackJSON("body-key", 0)[1:])
	webtest.MustTrackingOK(t, "writeKey in the body", a.Post("/v1/track", []byte(withKey), "Content-Type", "text/plain"))
	if raw := a.Stored("body-key").Raw; bytes.Contains(raw, []byte(a.Raw)) || bytes.Contains(raw, []byte("writeKey")) {
		t.Fatalf("the write key must not be stored with the event: %s", raw)
	}
	// analytics.js: text/plain, short path, writeKey in the body.
	webtest.MustTrackingOK(t, "analytics.js style", a.Post("/v1/t", []byte(strings.Replace(withKey, "body-key", "ajs", 1)), "Content-Type", "text/plain;charset=UTF-8"))

	before := a.Count()
	r := a.Post("/v1/track", ev("none"))
	webtest.MustTrackingRefuse(t, "no key", r, 401)
	if !strings.Contains(r.Error, "write key") || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no key: %q, WWW-Authenticate %q", r.Error, r.Header.Get("WWW-Authenticate"))
	}
	webtest.MustTrackingRefuse(t, "unknown key", a.Post("/v1/track", ev("unknown"), "Basic", "not-a-key"), 401)
	webtest.MustTrackingRefuse(t, "unknown body key", a.Post("/v1/track", []byte(`{"writeKey":"nope","userId":"u","event":"e"}`)), 401)
	webtest.MustTrackingRefuse(t, "key of another case", a.Post("/v1/track", ev("case"), "Basic", strings.ToLower(a.Raw)), 401)
	webtest.MustTrackingRefuse(t, "bearer instead of basic", a.Post("/v1/track", ev("bearer"), "Authorization", "Bearer "+a.Raw), 401)
	webtest.MustTrackingRefuse(t, "non-string writeKey", a.Post("/v1/track", []byte(`{"writeKey":42,"userId":"u","event":"e"}`)), 401)
	if a.Count() != before {
		t.Fatal("an unauthenticated call stored something")
	}
	for _, at := range a.Rec.All() {
		if at.Outcome == status.OutcomeBadKey {
			t.Fatalf("an unknown key names no workspace, so nothing may be recorded: %+v", at)
		}
	}

	// A revoked key stops; its workspace sees the refusal.
	ctx := context.Background()
	k2, raw2, err := a.St.CreateWriteKey(ctx, a.WS.ID, "to revoke")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.St.RevokeWriteKey(ctx, a.WS.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	r = a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON("revoked", 0)+`]}`), "Basic", raw2)
	webtest.MustTrackingRefuse(t, "revoked key", r, 401)
	if !strings.Contains(r.Error, "revoked") {
		t.Fatalf("revoked: %q", r.Error)
	}
	var found bool
	for _, at := range a.Rec.All() {
		if at.Outcome == status.OutcomeBadKey && at.WorkspaceID == a.WS.ID && at.Source == "http_api" && at.Status == 401 {
			found = true
		}
	}
	if !found {
		t.Fatalf("the revoked key's refusal was not recorded: %+v", a.Rec.All())
	}

	// Last used is written (throttled, in the background) after a success.
	testutil.Wait(t, "last_used_at to be written", func() bool {
		list, err := a.St.WriteKeys(ctx, a.WS.ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(list) > 0 && list[0].ID == a.Key.ID && list[0].LastUsedAt != nil
	})
}

func TestTrackingBatchMergeAndRetries(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	body := []byte(`{"batch":[
		{"type":"track","messageId":"m1","userId":"u1","event":"A","context":{"ip":"10.0.0.1"}},
		{"type":"identify","messageId":"m2","userId":"u1","integrations":{"All":true},"context":null}],
	 "context":{"library":{"name":"analytics-node","version":"3.1.0"},"ip":"10.9.9.9"},
	 "integrations":{"All":false,"Mixpanel":true},
	 "sentAt":"2026-05-01T10:00:00Z","writeKey":"` + a.Raw + `"}`)
	webtest.MustTrackingOK(t, "batch", a.Post("/v1/batch", body, a.Auth()...))

	var m1, m2 struct {
		Context      map[string]any  `json:"context"`
		Integrations map[string]bool `json:"integrations"`
		SentAt       string          `json:"sentAt"`
		WriteKey     *string         `json:"writeKey"`
	}
	if err := json.Unmarshal(a.Stored("m1").Raw, &m1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a.Stored("m2").Raw, &m2); err != nil {
		t.Fatal(err)
	}
	if m1.Context["ip"] != "10.0.0.1" || m1.Context["library"] == nil {
		t.Errorf("m1 context must merge the batch's, the item's own keys winning: %v", m1.Context)
	}
	if !m1.Integrations["Mixpanel"] || m1.Integrations["All"] {
		t.Errorf("m1 integrations: %v", m1.Integrations)
	}
	if m2.Context["ip"] != "10.9.9.9" || !m2.Integrations["All"] || !m2.Integrations["Mixpanel"] {
		t.Errorf("m2: context %v integrations %v", m2.Context, m2.Integrations)
	}
	if m1.SentAt != "2026-05-01T10:00:00Z" || m1.WriteKey != nil || m2.WriteKey != nil {
		t.Errorf("sentAt is merged, writeKey never: %+v", m1)
	}

	// A library retries the whole batch when it did not see our answer.
	n := a.Count()
	for i := 1; i <= 2; i++ {
		webtest.MustTrackingOK(t, "retry", a.Post("/v1/batch", body, append(a.Auth(), "X-Retry-Count", fmt.Sprint(i))...))
	}
	if a.Count() != n {
		t.Fatalf("retried batch stored again: %d → %d events", n, a.Count())
	}
	var dup bool
	for _, at := range a.Rec.All() {
		dup = dup || (at.Outcome == status.OutcomeDuplicate && at.Duplicates == 2 && at.Source == "http_api")
	}
	if !dup {
		t.Fatalf("retries must be recorded as duplicates: %+v", a.Rec.All())
	}
}

func TestTrackingUnavailable(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Ing.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON("late", 0)+`]}`), a.Auth()...)
	webtest.MustTrackingRefuse(t, "ingester closed", r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if a.Count() != 0 {
		t.Fatal("stored while refusing")
	}
}

// gatedStore is the real store whose commits wait until the gate opens.
type gatedStore struct {
	*store.Store
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedStore) InsertEvents(ctx context.Context, evs []store.NewEvent) ([]bool, error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.Store.InsertEvents(ctx, evs)
}

func TestTrackingOverloadIs429(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	g := &gatedStore{Store: st, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	a := webtest.StartTrackingWith(t, st, g, ingest.Options{Timeout: 5 * time.Second, Writers: 1, QueueRequests: 1})
	send := func(id string) <-chan webtest.TrackingReply {
		ch := make(chan webtest.TrackingReply, 1)
		go func() { ch <- a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON(id, 0)+`]}`), a.Auth()...) }()
		return ch
	}
	first := send("first")
	<-g.entered // the one writer is busy with it
	second := send("second")
	testutil.Wait(t, "the second request to queue", func() bool { return a.Ing.QueueDepth() >= 1 })
	r := a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON("third", 0)+`]}`), a.Auth()...)
	webtest.MustTrackingRefuse(t, "full queue", r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After: analytics-node would count it against its retries")
	}
	close(g.gate)
	webtest.MustTrackingOK(t, "first", <-first)
	webtest.MustTrackingOK(t, "second", <-second)
	a.Stored("first")
	a.Stored("second")
	if n := a.Count(); n != 2 {
		t.Fatalf("want 2 events, have %d", n)
	}
}

// The in-flight byte budget applies to the Tracking API as to the webhook:
// while admitted bodies use it up, the next call is refused at once.
func TestTrackingInflightBudgetIs429(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	g := &gatedStore{Store: st, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	a := webtest.StartTrackingWith(t, st, g, ingest.Options{Timeout: 5 * time.Second, Writers: 1, InflightBytes: 64})
	first := make(chan webtest.TrackingReply, 1)
	go func() {
		first <- a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON("held", 0)+`]}`), a.Auth()...)
	}()
	<-g.entered // its bytes are admitted and held in the commit
	r := a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON("over-budget", 0)+`]}`), a.Auth()...)
	webtest.MustTrackingRefuse(t, "in-flight budget spent", r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	close(g.gate)
	webtest.MustTrackingOK(t, "held", <-first)
	a.Stored("held")
	if n := a.Count(); n != 1 {
		t.Fatalf("want 1 event, have %d", n)
	}
}
