package reliability

import (
	"fmt"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// TestKill9UnderLoad kills the server with SIGKILL while many senders post,
// at three different moments, restarts it, and lets the senders retry as
// Segment does. Every event that got a 2xx must be stored exactly once; with
// the retries, every event must end up acknowledged.
func TestKill9UnderLoad(t *testing.T) {
	needSuite(t)
	dbURL := testdb.PostgresURL(t)
	p := newInlet(t, dbURL, nil)
	p.start()
	ctx := ctxFor(t, 4*time.Minute)

	for round, at := range []time.Duration{300 * time.Millisecond, 1200 * time.Millisecond, 2600 * time.Millisecond} {
		t.Run(fmt.Sprintf("kill_after_%s", at), func(t *testing.T) {
			load := startLoad(ctx, loadConfig(p, fmt.Sprintf("kill%d", round), 48, 4*time.Second, true))
			time.Sleep(at)
			p.kill()
			down := time.Now()
			time.Sleep(300 * time.Millisecond)
			p.start()
			t.Logf("server back %s after kill -9", time.Since(down).Round(time.Millisecond))
			res := load.wait(t)
			v := mustBeStoredOnce(t, dbURL, res)
			if n := res.Count5xx(); n > 0 {
				t.Errorf("%d answers were 5xx other than 503", n)
			}
			if res.GaveUp > 0 {
				t.Errorf("%d events were never acknowledged although senders retried for a minute", res.GaveUp)
			}
			if len(res.Acked) == 0 {
				t.Fatal("no event acknowledged: the test proved nothing")
			}
			t.Logf("figures: %s", summary(res, v))
		})
	}
}
