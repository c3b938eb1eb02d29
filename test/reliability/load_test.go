package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
)

// loadRun is a loadgen.Run going on in the background.
type loadRun struct {
	done chan struct{}
	res  *loadgen.Result
	err  error
}

func startLoad(ctx context.Context, cfg loadgen.Config) *loadRun {
	l := &loadRun{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.res, l.err = loadgen.Run(ctx, cfg)
	}()
	return l
}

func (l *loadRun) wait(t *testing.T) *loadgen.Result {
	t.Helper()
	<-l.done
	if l.err != nil {
		t.Fatalf("load: %v", l.err)
	}
	return l.res
}

// loadConfig is Segment-like traffic for p: signed ~1 KB track events, one
// per request, retried on 503/429/5xx/no answer when retry is set.
func loadConfig(p *inletProc, name string, senders int, d time.Duration, retry bool) loadgen.Config {
	return loadgen.Config{
		URL: p.webhookURL(), Secret: []byte(testSecret), Senders: senders, Duration: d,
		Retry: retry, RetryFor: time.Minute, RetryCap: 500 * time.Millisecond, Timeout: 10 * time.Second,
		RunID: name + "-" + strconv.FormatUint(rand.Uint64(), 36),
	}
}

// mustBeStoredOnce fails the test unless every event res acknowledged is in
// the database exactly once.
func mustBeStoredOnce(t *testing.T, dbURL string, res *loadgen.Result) *loadgen.Verification {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	v, err := loadgen.Verify(ctx, dbURL, "", res.RunID, res.Acked)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if !v.OK() {
		t.Fatalf("acknowledged events lost or duplicated: %s", v)
	}
	return v
}

// summary is the one line of figures a test logs for docs/reliability.md.
func summary(res *loadgen.Result, v *loadgen.Verification) string {
	s := fmt.Sprintf("requests=%d acked_events=%d (answered as duplicates=%d) never_acked=%d 5xx_not_503=%d status=%v",
		res.Requests(), len(res.Acked), res.Duplicates, res.GaveUp, res.Count5xx(), res.Status)
	if len(res.Errors) > 0 {
		s += fmt.Sprintf(" no_answer=%v", res.Errors)
		if txt, ok := res.ErrorText["other"]; ok {
			s += fmt.Sprintf(" (other: %q)", txt)
		}
	}
	if v != nil {
		s += fmt.Sprintf(" stored_once=%d missing=%d duplicated=%d stored_unacked=%d", v.Checked, len(v.Missing), len(v.Duplicated), v.Unacknowledged)
	}
	return s
}
