package delivery_test

import (
	"net/netip"

	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/testutil"

	"github.com/google/uuid"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

// hit is one request a receiver got.
type hit struct {
	at        time.Time
	id        string
	timestamp string
	signature string
	ctype     string
	body      string
	verified  error // the Standard Webhooks reference library's verdict
	status    int   // what the receiver answered
}

// receiver is a real HTTP server standing in for a customer's endpoint. It
// verifies every request with the reference Standard Webhooks library and
// answers with whatever answer says (200 when nil).
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	hits   []hit
	secret string
	answer func(h hit, n int) (int, http.Header) // n: how many times this webhook-id came before
	seen   map[string]int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{t: t, seen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	h := hit{at: time.Now(), id: req.Header.Get("webhook-id"), timestamp: req.Header.Get("webhook-timestamp"),
		signature: req.Header.Get("webhook-signature"), ctype: req.Header.Get("Content-Type"), body: string(body)}
	r.mu.Lock()
	secret, answer := r.secret, r.answer
	n := r.seen[h.id]
	r.seen[h.id]++
	r.mu.Unlock()
	if secret != "" {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err == nil {
			err = wh.Verify(body, req.Header)
		}
		h.verified = err
	}
	status := http.StatusOK
	if answer != nil {
		var hdr http.Header
		status, hdr = answer(h, n)
		for k, v := range hdr {
			w.Header()[k] = v
		}
	}
	h.status = status
	r.mu.Lock()
	r.hits = append(r.hits, h)
	r.mu.Unlock()
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":%d}`, status)
}

func (r *receiver) setAnswer(f func(h hit, n int) (int, http.Header)) {
	r.mu.Lock()
	r.answer = f
	r.mu.Unlock()
}

func (r *receiver) all() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

// testOptions are fast settings for tests: short polls, lease and schedule.
func testOptions() delivery.Options {
	return delivery.Options{
		Concurrency: 8, Window: 100, Timeout: 2 * time.Second,
		Retry:    delivery.Policy{Schedule: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, RetryFor: time.Minute},
		LeaseTTL: 3 * time.Second, Poll: 20 * time.Millisecond, Rescan: 50 * time.Millisecond,
		// An open circuit probes every 50–400 ms here (0.5–20 s in
		// production), so outage tests stay short; the circuit tests set
		// their own steps where the spacing is what they check.
		ProbeMin: 50 * time.Millisecond, ProbeMax: 400 * time.Millisecond,
	}
}

func startManager(t *testing.T, st *store.Store, o delivery.Options) *delivery.Manager {
	t.Helper()
	m := delivery.New(st, o)
	m.Start(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close manager: %v", err)
		}
	})
	return m
}

func createDestination(t *testing.T, st *store.Store, ws uuid.UUID, url string, types ...string) store.Destination {
	t.Helper()
	d, err := st.CreateDestination(context.Background(), store.NewDestination{
		WorkspaceID: ws, Name: "test", URL: url, Types: types, Secret: delivery.NewSecret()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// rawEvent is an event's stored JSON: deliberately not in Go's own
// formatting (spaces, key order, a big number) so a re-encoding would show.
func rawEvent(mid, typ string) []byte {
	return []byte(`{ "type":"` + typ + `", "messageId":"` + mid + `","userId":"u1","properties":{"n": 12345678901234567890, "é":"ü"} }`)
}

func insert(t *testing.T, st *store.Store, ws uuid.UUID, typ string, mids ...string) {
	t.Helper()
	evs := make([]store.NewEvent, len(mids))
	for i, mid := range mids {
		evs[i] = store.NewEvent{WorkspaceID: ws, MessageID: mid, Type: typ, UserID: "u1", ReceivedAt: time.Now(),
			Source: "webhook", Raw: rawEvent(mid, typ)}
	}
	if _, err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

func mids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return out
}

// deliveredAll reports whether every one of ids reached r with a 2xx.
func deliveredAll(r *receiver, ids []string) bool {
	got := map[string]bool{}
	for _, h := range r.all() {
		if h.status >= 200 && h.status < 300 {
			got[midOf(h.body)] = true
		}
	}
	for _, id := range ids {
		if !got[id] {
			return false
		}
	}
	return true
}

// midOf pulls the messageId out of a rawEvent body.
func midOf(body string) string {
	_, rest, ok := strings.Cut(body, `"messageId":"`)
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, `"`)
	return id
}

func netipPrefixes(list string) ([]netip.Prefix, error) { return config.ParseNetworks(list) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// signals counts what the manager reports through Options.Signal, so a test
// that must prove something did not happen waits for the worker (or the
// manager) to have looked and decided, then asserts.
type signals struct {
	mu                     sync.Mutex
	idle, scanned, stopped int
}

func (s *signals) record(sig delivery.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case sig.Kind == delivery.SignalStep && !sig.Worked:
		s.idle++
	case sig.Kind == delivery.SignalScanned:
		s.scanned++
	case sig.Kind == delivery.SignalStopped:
		s.stopped++
	}
}

func (s *signals) counts() (idle, scanned, stopped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idle, s.scanned, s.stopped
}

// waitIdle waits until a worker has finished two steps with nothing to send
// after this call: at least one of them began after it, so whatever was
// committed before was seen and (if it was sent) sent.
func (s *signals) waitIdle(t *testing.T, what string) {
	t.Helper()
	before, _, _ := s.counts()
	testutil.Wait(t, what, func() bool { n, _, _ := s.counts(); return n >= before+2 })
}

// waitScans waits for two scans of the manager after this call.
func (s *signals) waitScans(t *testing.T, what string) {
	t.Helper()
	_, before, _ := s.counts()
	testutil.Wait(t, what, func() bool { _, n, _ := s.counts(); return n >= before+2 })
}
