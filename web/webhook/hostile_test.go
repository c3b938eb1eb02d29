package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// startHostileServer is a real server on PostgreSQL with room for the
// largest hostile body (100k events). wait is how long a request may wait
// for its commit: 0 keeps the longest INGEST_TIMEOUT allowed (4.9 s).
func startHostileServer(t *testing.T, wait time.Duration) *webtest.Hook {
	t.Helper()
	st := testdb.Open(t)
	cfg := webtest.Config(t, map[string]string{"MAX_BODY_BYTES": "16777216", "INGEST_TIMEOUT": "4900ms"})
	if wait == 0 {
		wait = cfg.IngestTimeout
	}
	cfg.WriteTimeout = max(30*time.Second, wait+10*time.Second) // the answer of a request allowed to wait is written
	srv, _ := webtest.Open(t, webtest.Deps(t, cfg, st, slog.New(slog.DiscardHandler)), st, ingest.Options{Timeout: wait})
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	h := &webtest.Hook{T: t, St: st, Srv: srv, URL: "http://" + srv.Addr(), WS: ws}
	h.SetSecret(ws.ID, webtest.FixtureSecret)
	return h
}

// TestHostileBodies posts correctly signed bodies built to break a parser, a
// database driver or a page. Each must get a 2xx (valid: then stored byte
// for byte) or a 4xx with a JSON reason; never a 5xx, a panic or a hang; and
// the server must answer the next ordinary request.
func TestHostileBodies(t *testing.T) {
	t.Parallel()
	h := startHostileServer(t, 0)
	// As JSON string content: the quote is escaped, \u0027 is an apostrophe.
	const sqlHTML = `'; DROP TABLE events; -- <script>alert(1)</script><img src=x onerror=alert(2)> \" \u0027 OR 1=1 $1 ?`
	const sqlHTMLDecoded = `'; DROP TABLE events; -- <script>alert(1)</script><img src=x onerror=alert(2)> " ' OR 1=1 $1 ?`
	ev := func(fields string) string { return `{"type":"track","event":"E","userId":"u"` + fields + `}` }
	cases := []struct {
		name   string
		body   []byte
		status int    // 200, or the 4xx expected
		mid    string // with 200: the messageId whose stored row must equal body
	}{
		{"nesting_200k_levels_in_properties", []byte(ev(`,"properties":` + strings.Repeat("[", 200000) + strings.Repeat("]", 200000))), 400, ""},
		{"nesting_200k_levels_at_top", []byte(strings.Repeat("[", 200000) + strings.Repeat("]", 200000)), 400, ""},
		{"invalid_utf8", []byte(ev(`,"properties":{"p":"` + "\xff\xfe\xc3" + `"}`)), 400, ""},
		{"raw_nul_in_string", []byte(ev(`,"properties":{"p":"a` + "\x00" + `b"}`)), 400, ""},
		{"raw_nul_outside_strings", []byte(ev("\x00")), 400, ""},
		{"escaped_nul_in_typed_field", []byte(`{"type":"track","event":"a\u0000b","userId":"u"}`), 400, ""},
		{"escaped_nul_in_properties", []byte(ev(`,"messageId":"nul-prop","properties":{"p":"a\u0000b"}`)), 200, "nul-prop"},
		{"message_id_10k_characters", []byte(ev(`,"messageId":"` + strings.Repeat("m", 10000) + `"`)), 400, ""},
		{"huge_number_literals", []byte(ev(`,"messageId":"big-num","properties":{"n":1e999999,"m":-1e-999999,"i":123456789012345678901234567890}`)), 200, "big-num"},
		{"number_ids_out_of_range", []byte(`{"type":"identify","userId":1e999999,"messageId":"num-id"}`), 200, "num-id"},
		{"duplicate_keys", []byte(`{"type":"track","event":"first","event":"last","userId":"u","messageId":"dup-a","messageId":"dup-keys"}`), 0, "dup-keys"},
		{"trailing_garbage", []byte(ev(`,"messageId":"trail"`) + `}}garbage`), 400, ""},
		{"two_objects", []byte(ev(``) + ev(``)), 400, ""},
		{"array_of_events_and_non_objects", []byte(`[` + ev(`,"messageId":"mix-1"`) + `,1,"s",null,[]]`), 400, ""},
		{"unknown_type", []byte(`{"type":"purchase","userId":"u"}`), 400, ""},
		{"type_as_number", []byte(`{"type":7,"userId":"u"}`), 400, ""},
		{"type_as_object", []byte(`{"type":{"$gt":""},"userId":"u"}`), 400, ""},
		{"timestamp_words", []byte(ev(`,"timestamp":"yesterday"`)), 400, ""},
		{"timestamp_number", []byte(ev(`,"timestamp":1700000000`)), 400, ""},
		{"timestamp_impossible_date", []byte(ev(`,"timestamp":"2026-13-45T25:61:61Z"`)), 400, ""},
		{"timestamp_year_99999", []byte(ev(`,"timestamp":"99999-01-01T00:00:00Z"`)), 400, ""},
		{"sql_and_html_everywhere", []byte(`{"type":"track","event":"` + sqlHTML + `","userId":"` + sqlHTML + `","anonymousId":"` + sqlHTML +
			`","messageId":"sql-html","properties":{"` + sqlHTML + `":"` + sqlHTML + `"},"context":{"page":{"title":"` + sqlHTML + `"}}}`), 200, "sql-html"},
		{"lone_surrogate_in_properties", []byte(ev(`,"messageId":"surrogate","properties":{"p":"\ud800","q":"\udfff\ud800"}`)), 0, "surrogate"},
		{"lone_surrogate_in_typed_field", []byte(`{"type":"track","event":"\ud800","userId":"u","messageId":"surrogate-typed"}`), 0, "surrogate-typed"},
		{"empty_body", []byte(``), 400, ""},
		{"whitespace_body", []byte(" \n\t "), 400, ""},
		{"null_body", []byte(`null`), 400, ""},
		{"empty_array", []byte(`[]`), 400, ""},
		{"batch_not_array", []byte(`{"batch":{"type":"track"}}`), 400, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := postTimed(h, c.body)
			switch {
			case r.Status >= 500:
				t.Fatalf("status %d (%q): a hostile body must never be a server error", r.Status, r.Error)
			case c.status == 0 && r.Status != http.StatusOK && (r.Status < 400 || r.Error == ""):
				t.Fatalf("got %+v, want 200 or a 4xx with a reason", r)
			case c.status == 200 && r.Status != http.StatusOK:
				t.Fatalf("got %+v, want 200", r)
			case c.status >= 400 && (r.Status != c.status || r.Error == ""):
				t.Fatalf("got %+v, want %d with a reason", r, c.status)
			}
			if r.Status == http.StatusOK && c.mid != "" {
				got := mustStoreExactly(h, c.mid, c.body)
				if c.mid == "sql-html" && (got.Event != sqlHTMLDecoded || got.UserID != sqlHTMLDecoded || got.AnonymousID != sqlHTMLDecoded) {
					t.Fatalf("typed columns differ from the sent values: %+v", got)
				}
				// Duplicate keys: the last one counts, as in JSON.parse and
				// Go, so what the columns say is what a reader of raw sees.
				if c.mid == "dup-keys" && got.Event != "last" {
					t.Fatalf("duplicate keys: event column %q, want the last value", got.Event)
				}
			}
			t.Logf("%d %s", r.Status, r.Error)
			mustStillServe(h, c.name)
		})
	}
	if n := h.Count(h.WS.ID); n > int64(len(cases))*2 {
		t.Fatalf("%d events stored from %d hostile bodies", n, len(cases))
	}
}

// TestHostileHundredThousandEvents sends 100k tiny events in one array: all
// are stored, in one all-or-nothing request, before the answer.
func TestHostileHundredThousandEvents(t *testing.T) {
	t.Parallel()
	// Committing 100k rows takes ~3 s on an idle 2-core machine and far
	// longer under -race on a busy one, so this test lets the request wait:
	// it is about the body (parsed, stored exactly, no 5xx or hang), while
	// the 503-in-time promise is the outage and overload tests' subject.
	if testdb.SlowStore() {
		// ~2.5 ms an event there: over four minutes for this one request.
		t.Skip("100k events on SQLite under the race detector take minutes: make test runs this on PostgreSQL; for SQLite run INLET_TEST_STORE=sqlite go test -run HundredThousand ./web without -race")
	}
	// SQLite commits 100k rows in seconds when idle but over a minute beside
	// other suites: the deadline is generous, the answer still all-or-nothing.
	h := startHostileServer(t, 5*time.Minute)
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range 100000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","event":"e","userId":"u","messageId":"tiny-%d"}`, i)
	}
	b.WriteByte(']')
	start := time.Now()
	r := postTimed(h, b.Bytes())
	if r.Status != http.StatusOK || r.Accepted != 100000 {
		t.Fatalf("100k events in %d bytes: %+v after %s", b.Len(), r, time.Since(start))
	}
	if n := h.Count(h.WS.ID); n != 100000 {
		t.Fatalf("stored %d events, want 100000", n)
	}
	t.Logf("100k events (%d bytes) stored and answered in %s", b.Len(), time.Since(start).Round(time.Millisecond))
	mustStillServe(h, "after 100k")
}

// postTimed posts a body signed over all of it, failing on a hang.
func postTimed(h *webtest.Hook, body []byte) webtest.HookReply {
	h.T.Helper()
	req, err := http.NewRequest(http.MethodPost, h.URL+"/api/public/webhooks/segment", bytes.NewReader(body))
	if err != nil {
		h.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Segment.io/1.0")
	req.Header.Set("X-Signature", webtest.Sign(webtest.FixtureSecret, body))
	type answer struct {
		r   webtest.HookReply
		err error
	}
	done := make(chan answer, 1)
	go func() { r, err := webtest.TryDo(req); done <- answer{r, err} }()
	select {
	case a := <-done:
		if a.err != nil {
			h.T.Fatal(a.err)
		}
		return a.r
	case <-time.After(6 * time.Minute):
		h.T.Fatal("no answer within 6 min: the server hangs on this body")
		return webtest.HookReply{}
	}
}

func mustStoreExactly(h *webtest.Hook, mid string, body []byte) store.StoredEvent {
	h.T.Helper()
	got, err := h.St.EventByMessageID(context.Background(), h.WS.ID, mid)
	if err != nil {
		h.T.Fatalf("stored event %q: %v", mid, err)
	}
	if !bytes.Equal(got.Raw, body) {
		h.T.Fatalf("stored raw differs from the body sent:\n got %q\nwant %q", trunc(got.Raw), trunc(body))
	}
	return got
}

func mustStillServe(h *webtest.Hook, after string) {
	h.T.Helper()
	body := []byte(`{"type":"track","event":"alive","userId":"u","messageId":"alive-` + after + `"}`)
	if r := h.Post("", webtest.Sign(webtest.FixtureSecret, body), body); r.Status != http.StatusOK {
		h.T.Fatalf("ordinary request after %s: %+v", after, r)
	}
}

func trunc(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
