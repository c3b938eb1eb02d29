package reliability

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// destinationEnv makes retries quick enough for a test run.
var destinationEnv = map[string]string{"DESTINATION_RETRY_SCHEDULE": "250ms,500ms,1s"}

// sink is the customer's receiver: it verifies every delivery with the
// Standard Webhooks reference library and counts 2xx deliveries per event.
type sink struct {
	srv       *httptest.Server
	mu        sync.Mutex
	secret    string
	delivered map[string]int    // messageId → deliveries answered 2xx
	ids       map[string]string // messageId → webhook-id
	badSig    int
	idChanged int
	refused   atomic.Int64
	mode      atomic.Int32 // 0 answer 200, 1 answer 503, 2 drop the connection
}

func newSink(t *testing.T) *sink {
	s := &sink{delivered: map[string]int{}, ids: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch s.mode.Load() {
	case 1:
		s.refused.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	case 2:
		s.refused.Add(1)
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	var ev struct {
		MessageID string `json:"messageId"`
	}
	_ = json.Unmarshal(body, &ev)
	s.mu.Lock()
	defer s.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(s.secret)
	if err == nil {
		err = wh.Verify(body, r.Header)
	}
	if err != nil {
		s.badSig++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	id := r.Header.Get("webhook-id")
	if prev, ok := s.ids[ev.MessageID]; ok && prev != id {
		s.idChanged++
	}
	s.ids[ev.MessageID] = id
	s.delivered[ev.MessageID]++
}

// missing lists the acknowledged events not delivered yet, and counts
// deliveries beyond the first.
func (s *sink) missing(acked []string) (missing []string, extra int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range acked {
		if s.delivered[id] == 0 {
			missing = append(missing, id)
		}
	}
	for _, n := range s.delivered {
		extra += n - 1
	}
	return missing, extra
}

// waitDelivered waits until every acknowledged event reached the sink and
// returns how long that took from the call.
func (s *sink) waitDelivered(t *testing.T, acked []string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	var missing []string
	if !testutil.Eventually(limit, func() bool { missing, _ = s.missing(acked); return len(missing) == 0 }) {
		t.Fatalf("%d of %d acknowledged events never reached the destination within %s (e.g. %v)",
			len(missing), len(acked), testutil.Patience(limit), missing[:min(5, len(missing))])
	}
	return time.Since(start)
}

func (s *sink) check(t *testing.T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.badSig > 0 {
		t.Errorf("%d deliveries failed Standard Webhooks verification", s.badSig)
	}
	if s.idChanged > 0 {
		t.Errorf("%d events arrived again under a different webhook-id", s.idChanged)
	}
}

// addDestination runs `inlet destination create` as an operator would.
func addDestination(t *testing.T, p *inletProc, s *sink) {
	t.Helper()
	cmd := exec.Command(inletBin, "destination", "create", "--url", s.srv.URL+"/events", "--name", "sink")
	cmd.Env = p.environ()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("inlet destination create: %v", err)
	}
	s.secret = strings.TrimSpace(string(out))
}

func destinationFigures(res *loadgen.Result, s *sink, caughtUp time.Duration) string {
	_, extra := s.missing(nil)
	return "acked_events=" + itoa(len(res.Acked)) + " delivered_all=yes extra_deliveries=" + itoa(extra) +
		" receiver_refusals=" + itoa(int(s.refused.Load())) + " caught_up_after_load=" + caughtUp.Round(100*time.Millisecond).String()
}

// TestDestinationReceiverOutage: the receiver answers 503, then drops
// connections, for 6 s in the middle of the load. Ingestion must not notice
// (no 503s to senders), and every acknowledged event must reach the receiver
// once it recovers.
func TestDestinationReceiverOutage(t *testing.T) {
	needSuite(t)
	dbURL := testdb.PostgresURL(t)
	p := newInlet(t, dbURL, destinationEnv)
	s := newSink(t)
	addDestination(t, p, s)
	p.start()
	ctx := ctxFor(t, 4*time.Minute)
	load := startLoad(ctx, loadConfig(p, "dest-outage", 16, 10*time.Second, true))
	time.Sleep(2 * time.Second)
	s.mode.Store(1)
	time.Sleep(3 * time.Second)
	s.mode.Store(2)
	time.Sleep(3 * time.Second)
	s.mode.Store(0)
	res := load.wait(t)
	if res.Status[http.StatusServiceUnavailable] > 0 {
		t.Errorf("%d webhook answers were 503 while only the destination was down: a dead receiver slowed ingestion", res.Status[503])
	}
	took := s.waitDelivered(t, res.Acked, 2*time.Minute)
	s.check(t)
	if s.refused.Load() == 0 {
		t.Fatal("the receiver refused nothing: the outage proved nothing")
	}
	t.Logf("figures: %s", destinationFigures(res, s, took))
}

// TestDestinationKill9: the server is killed with SIGKILL while it delivers
// and started again; delivery resumes from the cursor once the dead
// instance's lease runs out. Every acknowledged event arrives at least once.
func TestDestinationKill9(t *testing.T) {
	needSuite(t)
	dbURL := testdb.PostgresURL(t)
	p := newInlet(t, dbURL, destinationEnv)
	s := newSink(t)
	addDestination(t, p, s)
	p.start()
	ctx := ctxFor(t, 4*time.Minute)
	var acked []string
	for round, at := range []time.Duration{700 * time.Millisecond, 2500 * time.Millisecond} {
		load := startLoad(ctx, loadConfig(p, "dest-kill"+itoa(round), 16, 4*time.Second, true))
		time.Sleep(at)
		p.kill()
		time.Sleep(300 * time.Millisecond)
		p.start()
		res := load.wait(t)
		acked = append(acked, res.Acked...)
		took := s.waitDelivered(t, acked, 2*time.Minute)
		t.Logf("figures: kill_after=%s %s", at, destinationFigures(res, s, took))
	}
	s.check(t)
}

// TestDestinationDatabaseOutage: PostgreSQL stops hard for 6 s while events
// flow; the workers wait, keep their place, and deliver everything after.
func TestDestinationDatabaseOutage(t *testing.T) {
	needSuite(t)
	pg := newPGCluster(t)
	env := map[string]string{"SHUTDOWN_TIMEOUT": outageGrace.String()}
	for k, v := range destinationEnv {
		env[k] = v
	}
	p := newInlet(t, pg.URL(), env)
	s := newSink(t)
	addDestination(t, p, s)
	p.start()
	ctx := ctxFor(t, 4*time.Minute)
	load := startLoad(ctx, loadConfig(p, "dest-dbdown", 16, 12*time.Second, true))
	time.Sleep(2 * time.Second)
	pg.crash()
	time.Sleep(6 * time.Second)
	pg.start()
	res := load.wait(t)
	took := s.waitDelivered(t, res.Acked, 2*time.Minute)
	s.check(t)
	t.Logf("figures: %s", destinationFigures(res, s, took))
}

func itoa(n int) string { return strconv.Itoa(n) }
