package reliability

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
)

// outageWatch checks every answer during a database outage: a 503 with
// Retry-After, within Segment's 5 s, never another 5xx, never no answer.
type outageWatch struct {
	mu         sync.Mutex
	violations []string
	upAt       time.Time // when the database came back
	firstOK    time.Time // first 2xx that completed after upAt
	slowest    time.Duration
	n503       int
}

func (w *outageWatch) observe(r loadgen.Response) {
	now := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.slowest = max(w.slowest, r.Latency)
	bad := func(s string) {
		if len(w.violations) < 10 {
			w.violations = append(w.violations, s)
		}
	}
	switch {
	case r.Latency >= 5*time.Second:
		bad("answer took " + r.Latency.String() + " (Segment gives up after 5s)")
	case r.Status == 0:
		bad("no answer: " + r.Err.Error())
	case r.Status == http.StatusServiceUnavailable:
		w.n503++
		if r.RetryAfter == "" {
			bad("503 without Retry-After")
		}
	case r.Status >= 500:
		bad("answered " + http.StatusText(r.Status) + ": " + r.Message)
	case r.Status >= 200 && r.Status < 300:
		if !w.upAt.IsZero() && w.firstOK.IsZero() {
			w.firstOK = now
		}
	}
}

// TestDatabaseOutageUnderLoad stops the test's own PostgreSQL hard for six
// seconds while senders post, then starts it again. The server must answer
// 503 + Retry-After (fast, never 500, never hang) while it is down, accept
// again within seconds of its return with no restart, and have stored
// every acknowledged event exactly once.
func TestDatabaseOutageUnderLoad(t *testing.T) {
	needSuite(t)
	pg := newPGCluster(t)
	p := newInlet(t, pg.URL(), map[string]string{"SHUTDOWN_TIMEOUT": outageGrace.String()})
	p.start()
	ctx := ctxFor(t, 3*time.Minute)

	w := &outageWatch{}
	cfg := loadConfig(p, "outage", 32, 14*time.Second, true)
	cfg.OnResponse = w.observe
	load := startLoad(ctx, cfg)

	time.Sleep(2 * time.Second)
	pg.crash()
	crashedAt := time.Now()
	time.Sleep(6 * time.Second)
	pg.start()
	w.mu.Lock()
	w.upAt = time.Now()
	w.mu.Unlock()
	t.Logf("database down for %s", w.upAt.Sub(crashedAt).Round(time.Millisecond))

	res := load.wait(t)
	v := mustBeStoredOnce(t, pg.URL(), res)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.violations {
		t.Error(s)
	}
	if w.n503 == 0 {
		t.Error("no 503 during the outage: the fault did not reach the server")
	}
	if w.firstOK.IsZero() {
		t.Fatal("no event accepted after the database came back")
	}
	recovery := w.firstOK.Sub(w.upAt)
	if recovery > 10*time.Second {
		t.Errorf("first event accepted %s after the database came back, want within 10s", recovery)
	}
	if res.GaveUp > 0 {
		t.Errorf("%d events never acknowledged although senders retried for a minute", res.GaveUp)
	}
	t.Logf("figures: recovery=%s slowest_answer=%s answers_503=%d %s", recovery.Round(time.Millisecond), w.slowest.Round(time.Millisecond), w.n503, summary(res, v))

	// A shutdown while the database is down must still end in bounded time:
	// nothing can be committed, so nothing may be waited for forever.
	pg.crash()
	more := startLoad(ctx, loadConfig(p, "outage-sigterm", 16, 3*time.Second, false))
	time.Sleep(time.Second)
	took, exitErr := p.terminate(outageGrace + 5*time.Second)
	res = more.wait(t)
	if took > outageGrace {
		t.Errorf("SIGTERM with the database down: exit took %s, longer than SHUTDOWN_TIMEOUT %s", took, outageGrace)
	}
	if n := res.Count5xx(); n > 0 {
		t.Errorf("%d answers were 5xx other than 503 during shutdown with the database down", n)
	}
	t.Logf("figures: sigterm_with_database_down exit_after=%s exit=%v status=%v", took.Round(time.Millisecond), exitErr, res.Status)
}

// outageGrace is SHUTDOWN_TIMEOUT for the outage test's server.
const outageGrace = 8 * time.Second
