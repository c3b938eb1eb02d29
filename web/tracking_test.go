package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestTrackingSingleCalls(t *testing.T) {
	a := startAPIServer(t, testdb.Open(t))
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
			r := a.post(path, []byte(fmt.Sprintf(`%s,"messageId":%q}`, fields, id)), a.auth()...)
			mustAPIOK(t, path+" without type", r)
			ev := a.stored(id)
			if ev.Type != typ || ev.Source != "http_api" || ev.SourceKey != a.key.ID.String() {
				t.Errorf("%s: stored type=%q source=%q key=%q", path, ev.Type, ev.Source, ev.SourceKey)
			}
			if !bytes.HasPrefix(ev.Raw, []byte(`{"type":"`+typ+`",`)) {
				t.Errorf("%s: type must be spliced in front, the rest kept as sent: %s", path, ev.Raw)
			}
			// Segment's libraries send type; it must match the path.
			id = "typed" + strings.ReplaceAll(path, "/", "-")
			body := fmt.Sprintf(`{"type":%q,%s,"messageId":%q}`, typ, fields[1:], id)
			mustAPIOK(t, path+" with type", a.post(path, []byte(body), a.auth()...))
			if got := a.stored(id).Raw; string(got) != body {
				t.Errorf("%s: raw must be stored byte-exact, got %s", path, got)
			}
		}
	}
	before := a.count()
	mustAPIRefuse(t, "type contradicting the path", a.post("/v1/track", []byte(`{"type":"identify","userId":"u1"}`), a.auth()...), 400)
	mustAPIRefuse(t, "null type", a.post("/v1/identify", []byte(`{"type":null,"userId":"u1"}`), a.auth()...), 400)
	mustAPIRefuse(t, "invalid JSON", a.post("/v1/track", []byte(`{"userId":`), a.auth()...), 400)
	mustAPIRefuse(t, "array on a single endpoint", a.post("/v1/track", []byte(`[{"event":"x","userId":"u"}]`), a.auth()...), 400)
	mustAPIRefuse(t, "batch on a single endpoint", a.post("/v1/track", []byte(`{"batch":[]}`), a.auth()...), 400)
	mustAPIRefuse(t, "track without event", a.post("/v1/track", []byte(`{"userId":"u1"}`), a.auth()...), 400)
	mustAPIRefuse(t, "empty object", a.post("/v1/t", []byte(` { } `), a.auth()...), 400)
	mustAPIRefuse(t, "delete through the API", a.post("/v1/batch", []byte(`{"batch":[{"type":"delete","userId":"u1"}]}`), a.auth()...), 400)
	mustAPIRefuse(t, "single event on batch", a.post("/v1/batch", []byte(apiTrackJSON("x", 0)), a.auth()...), 400)
	mustAPIRefuse(t, "null body", a.post("/v1/batch", []byte(`null`), a.auth()...), 400)
	if a.count() != before {
		t.Fatal("a refused call stored something")
	}
	req, _ := http.NewRequest(http.MethodGet, a.url+"/v1/track", nil)
	if r := a.do(req); r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusNotFound {
		t.Fatalf("GET /v1/track: %d", r.Status)
	}
}

func TestTrackingAuth(t *testing.T) {
	a := startAPIServer(t, testdb.Open(t))
	ev := func(id string) []byte { return []byte(apiTrackJSON(id, 0)) }

	mustAPIOK(t, "Basic auth", a.post("/v1/track", ev("basic"), a.auth()...))
	withKey := fmt.Sprintf(`{"writeKey":%q,%s`, a.raw, apiTrackJSON("body-key", 0)[1:])
	mustAPIOK(t, "writeKey in the body", a.post("/v1/track", []byte(withKey), "Content-Type", "text/plain"))
	if raw := a.stored("body-key").Raw; bytes.Contains(raw, []byte(a.raw)) || bytes.Contains(raw, []byte("writeKey")) {
		t.Fatalf("the write key must not be stored with the event: %s", raw)
	}
	// analytics.js: text/plain, short path, writeKey in the body.
	mustAPIOK(t, "analytics.js style", a.post("/v1/t", []byte(strings.Replace(withKey, "body-key", "ajs", 1)), "Content-Type", "text/plain;charset=UTF-8"))

	before := a.count()
	r := a.post("/v1/track", ev("none"))
	mustAPIRefuse(t, "no key", r, 401)
	if !strings.Contains(r.Error, "write key") || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no key: %q, WWW-Authenticate %q", r.Error, r.Header.Get("WWW-Authenticate"))
	}
	mustAPIRefuse(t, "unknown key", a.post("/v1/track", ev("unknown"), "Basic", "not-a-key"), 401)
	mustAPIRefuse(t, "unknown body key", a.post("/v1/track", []byte(`{"writeKey":"nope","userId":"u","event":"e"}`)), 401)
	mustAPIRefuse(t, "key of another case", a.post("/v1/track", ev("case"), "Basic", strings.ToLower(a.raw)), 401)
	mustAPIRefuse(t, "bearer instead of basic", a.post("/v1/track", ev("bearer"), "Authorization", "Bearer "+a.raw), 401)
	mustAPIRefuse(t, "non-string writeKey", a.post("/v1/track", []byte(`{"writeKey":42,"userId":"u","event":"e"}`)), 401)
	if a.count() != before {
		t.Fatal("an unauthenticated call stored something")
	}
	for _, at := range a.rec.all() {
		if at.Outcome == status.OutcomeBadKey {
			t.Fatalf("an unknown key names no workspace, so nothing may be recorded: %+v", at)
		}
	}

	// A revoked key stops; its workspace sees the refusal.
	ctx := context.Background()
	k2, raw2, err := a.st.CreateWriteKey(ctx, a.ws.ID, "to revoke")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.st.RevokeWriteKey(ctx, a.ws.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	r = a.post("/v1/batch", []byte(`{"batch":[`+apiTrackJSON("revoked", 0)+`]}`), "Basic", raw2)
	mustAPIRefuse(t, "revoked key", r, 401)
	if !strings.Contains(r.Error, "revoked") {
		t.Fatalf("revoked: %q", r.Error)
	}
	var found bool
	for _, at := range a.rec.all() {
		if at.Outcome == status.OutcomeBadKey && at.WorkspaceID == a.ws.ID && at.Source == "http_api" && at.Status == 401 {
			found = true
		}
	}
	if !found {
		t.Fatalf("the revoked key's refusal was not recorded: %+v", a.rec.all())
	}

	// Last used is written (throttled, in the background) after a success.
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := a.st.WriteKeys(ctx, a.ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) > 0 && list[0].ID == a.key.ID && list[0].LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("last_used_at never written: %+v", list)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTrackingBatchMergeAndRetries(t *testing.T) {
	a := startAPIServer(t, testdb.Open(t))
	body := []byte(`{"batch":[
		{"type":"track","messageId":"m1","userId":"u1","event":"A","context":{"ip":"10.0.0.1"}},
		{"type":"identify","messageId":"m2","userId":"u1","integrations":{"All":true},"context":null}],
	 "context":{"library":{"name":"analytics-node","version":"3.1.0"},"ip":"10.9.9.9"},
	 "integrations":{"All":false,"Mixpanel":true},
	 "sentAt":"2026-05-01T10:00:00Z","writeKey":"` + a.raw + `"}`)
	mustAPIOK(t, "batch", a.post("/v1/batch", body, a.auth()...))

	var m1, m2 struct {
		Context      map[string]any  `json:"context"`
		Integrations map[string]bool `json:"integrations"`
		SentAt       string          `json:"sentAt"`
		WriteKey     *string         `json:"writeKey"`
	}
	if err := json.Unmarshal(a.stored("m1").Raw, &m1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(a.stored("m2").Raw, &m2); err != nil {
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
	n := a.count()
	for i := 1; i <= 2; i++ {
		mustAPIOK(t, "retry", a.post("/v1/batch", body, append(a.auth(), "X-Retry-Count", fmt.Sprint(i))...))
	}
	if a.count() != n {
		t.Fatalf("retried batch stored again: %d → %d events", n, a.count())
	}
	var dup bool
	for _, at := range a.rec.all() {
		dup = dup || (at.Outcome == status.OutcomeDuplicate && at.Duplicates == 2 && at.Source == "http_api")
	}
	if !dup {
		t.Fatalf("retries must be recorded as duplicates: %+v", a.rec.all())
	}
}

func TestTrackingUnavailable(t *testing.T) {
	a := startAPIServer(t, testdb.Open(t))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.ing.Close(ctx); err != nil {
		t.Fatal(err)
	}
	r := a.post("/v1/batch", []byte(`{"batch":[`+apiTrackJSON("late", 0)+`]}`), a.auth()...)
	mustAPIRefuse(t, "ingester closed", r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	if a.count() != 0 {
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
	st := testdb.Open(t)
	g := &gatedStore{Store: st, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	a := startAPIServerWith(t, st, g, ingest.Options{Timeout: 5 * time.Second, Writers: 1, QueueRequests: 1})
	send := func(id string) <-chan apiReply {
		ch := make(chan apiReply, 1)
		go func() { ch <- a.post("/v1/batch", []byte(`{"batch":[`+apiTrackJSON(id, 0)+`]}`), a.auth()...) }()
		return ch
	}
	first := send("first")
	<-g.entered // the one writer is busy with it
	second := send("second")
	for deadline := time.Now().Add(5 * time.Second); a.ing.QueueDepth() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("second request never queued")
		}
	}
	r := a.post("/v1/batch", []byte(`{"batch":[`+apiTrackJSON("third", 0)+`]}`), a.auth()...)
	mustAPIRefuse(t, "full queue", r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After: analytics-node would count it against its retries")
	}
	close(g.gate)
	mustAPIOK(t, "first", <-first)
	mustAPIOK(t, "second", <-second)
	a.stored("first")
	a.stored("second")
	if n := a.count(); n != 2 {
		t.Fatalf("want 2 events, have %d", n)
	}
}

// The in-flight byte budget applies to the Tracking API as to the webhook:
// while admitted bodies use it up, the next call is refused at once.
func TestTrackingInflightBudgetIs429(t *testing.T) {
	st := testdb.Open(t)
	g := &gatedStore{Store: st, entered: make(chan struct{}, 4), gate: make(chan struct{})}
	a := startAPIServerWith(t, st, g, ingest.Options{Timeout: 5 * time.Second, Writers: 1, InflightBytes: 64})
	first := make(chan apiReply, 1)
	go func() { first <- a.post("/v1/batch", []byte(`{"batch":[`+apiTrackJSON("held", 0)+`]}`), a.auth()...) }()
	<-g.entered // its bytes are admitted and held in the commit
	r := a.post("/v1/batch", []byte(`{"batch":[`+apiTrackJSON("over-budget", 0)+`]}`), a.auth()...)
	mustAPIRefuse(t, "in-flight budget spent", r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	close(g.gate)
	mustAPIOK(t, "held", <-first)
	a.stored("held")
	if n := a.count(); n != 1 {
		t.Fatalf("want 1 event, have %d", n)
	}
}
