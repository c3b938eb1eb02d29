package reliability

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// TestOverload offers far more than the server can commit: many senders with
// large batches and no pause. Past the bounded queue the server must refuse
// fast with 503 + Retry-After instead of queueing without end, its memory
// must stay bounded, and every acknowledged event must be stored.
func TestOverload(t *testing.T) {
	needSuite(t)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		senders int
		batch   int
		maxRSS  int64
	}{
		// A small queue: most requests find it full.
		{"small_queue", map[string]string{"INGEST_QUEUE": "32"}, 256, 20, 256 << 20},
		// Default settings, bodies of ~500 KB: the byte budget of the queue
		// and the in-flight body limit are what bound memory.
		{"large_bodies_defaults", nil, 96, 480, 512 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbURL := testdb.PostgresURL(t)
			p := newInlet(t, dbURL, tc.env)
			p.start()
			ctx := ctxFor(t, 2*time.Minute)
			cfg := loadConfig(p, "overload", tc.senders, 8*time.Second, false)
			cfg.Batch = tc.batch
			res := startLoad(ctx, cfg).wait(t)
			rss := p.peakRSS()
			v := mustBeStoredOnce(t, dbURL, res)
			refused := res.ByCode[http.StatusServiceUnavailable]
			t.Logf("figures: peak_rss=%dMB 503_p50=%s 503_p99=%s 503_max=%s %s", rss>>20,
				loadgen.Percentile(refused, 50), loadgen.Percentile(refused, 99), res.MaxByCode[http.StatusServiceUnavailable], summary(res, v))
			var sb strings.Builder
			res.Print(&sb)
			t.Log(sb.String())
			if res.Status[http.StatusServiceUnavailable] == 0 {
				t.Error("no 503: the offered load did not exceed capacity, so the test proved nothing")
			}
			for code, n := range res.Status {
				if code != 0 && code != http.StatusOK && code != http.StatusServiceUnavailable {
					t.Errorf("%d answers with status %d (want only 200 or 503)", n, code)
				}
			}
			// A refused body over 256 KB is not read; net/http closes the
			// connection after the 503, and a sender still writing may see
			// the close before the answer. Segment retries that like a 503.
			// A timeout, though, would be a request left hanging.
			for kind, n := range res.Errors {
				if kind != "connection reset" && kind != "connection closed" {
					t.Errorf("%d requests got no answer (%s), want 200 or 503", n, kind)
				}
			}
			if d := res.MaxByCode[http.StatusServiceUnavailable]; d > 5*time.Second {
				t.Errorf("slowest 503 took %s, want under Segment's 5s", d)
			}
			if rss > tc.maxRSS {
				t.Errorf("peak RSS %d MB, want under %d MB", rss>>20, tc.maxRSS>>20)
			}
		})
	}
}
