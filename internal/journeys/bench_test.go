package journeys_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// TestSendThroughput sends INLET_BENCH_EMAILS queued group emails (one per
// user) through a local SMTP server and reports emails/s and the peak RSS
// of the process (the SMTP server included). Run with
//
//	INLET_BENCH_EMAILS=10000 go test -run TestSendThroughput -v ./internal/journeys
//
// (INLET_TEST_STORE=sqlite for the embedded store; EMAIL_RATE-like limit
// with INLET_BENCH_RATE).
func TestSendThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("INLET_BENCH_EMAILS"))
	if n == 0 {
		t.Skip("set INLET_BENCH_EMAILS to run")
	}
	rate, _ := strconv.Atoi(os.Getenv("INLET_BENCH_RATE"))
	st := testdb.Open(t)
	ctx := context.Background()
	f := newFixture(t, st, config.FrequencyCap{N: 3, Period: 24 * time.Hour})
	f.mailer.CountOnly = true
	// n users with an address, kept by the profile follower.
	for i := 0; i < n; i += 1000 {
		var batch []store.NewEvent
		for j := i; j < min(i+1000, n); j++ {
			id := fmt.Sprintf("b%d", j)
			raw := `{"type":"identify","messageId":"` + id + `","userId":"user` + strconv.Itoa(j) + `","traits":{"email":"user` + strconv.Itoa(j) + `@example.org"}}`
			now := time.Now().UTC()
			batch = append(batch, store.NewEvent{WorkspaceID: f.ws.ID, MessageID: id, Type: "identify", UserID: "user" + strconv.Itoa(j),
				Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: []byte(raw)})
		}
		if _, err := st.InsertEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := profiles.NewFollower(st, profiles.Options{}).CatchUp(ctx, f.ws.ID); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i := 0; i < n; i += 1000 {
		err := st.JourneyTx(ctx, f.ws.ID, func(tx *store.JourneyTx) error {
			for j := i; j < min(i+1000, n); j++ {
				if err := tx.Queue(store.QueuedMessage{SendKey: "bench." + strconv.Itoa(j), JourneyKey: "bench", StepID: "s",
					UserID: "user" + strconv.Itoa(j), Template: "t", Group: "g"}, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	runtimeGC()
	base := peakRSS()
	start := time.Now()
	f.engine(journeys.Options{Rate: rate})
	f.mailer.WaitFor(t, n, 30*time.Minute)
	took := time.Since(start)
	t.Logf("%s: %d emails in %s: %.0f emails/s; peak RSS of the test process (SMTP server and store setup included) %s before sending, %s after",
		st.Dialect(), n, took.Round(time.Millisecond), float64(n)/took.Seconds(), base, peakRSS())
}

func runtimeGC() { runtime.GC() }

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}
