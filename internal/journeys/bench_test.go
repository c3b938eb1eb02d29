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

// TestBroadcastThroughput measures the whole broadcast path: INLET_BENCH_BROADCAST
// profiles (identify events through the profile follower) that are members of
// an audience built by the audiences engine, a broadcast journey with one
// email step, stored disabled; the clock starts when it is enabled and stops
// when the local SMTP server has accepted every email. Run with
//
//	INLET_BENCH_BROADCAST=10000 go test -run TestBroadcastThroughput -v -timeout 30m ./internal/journeys
//
// (INLET_BENCH_RATE=100 for an EMAIL_RATE of 100/s; INLET_TEST_STORE=sqlite for
// the embedded store). A second, event-triggered journey waits 2 s meanwhile:
// how late its wait fires says whether the broadcast starves other journeys.
func TestBroadcastThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("INLET_BENCH_BROADCAST"))
	if n == 0 {
		t.Skip("set INLET_BENCH_BROADCAST to run")
	}
	rate, _ := strconv.Atoi(os.Getenv("INLET_BENCH_RATE"))
	st := testdb.Open(t)
	ctx := context.Background()
	f := newFixture(t, st, config.FrequencyCap{N: 3, Period: 24 * time.Hour})
	f.mailer.CountOnly = true
	seed := time.Now()
	for i := 0; i < n; i += 1000 {
		var batch []store.NewEvent
		for j := i; j < min(i+1000, n); j++ {
			id, user := "bc"+strconv.Itoa(j), "member"+strconv.Itoa(j)
			raw := `{"type":"identify","messageId":"` + id + `","userId":"` + user + `","traits":{"plan":"pro","email":"` + user + `@example.org"}}`
			now := time.Now().UTC()
			batch = append(batch, store.NewEvent{WorkspaceID: f.ws.ID, MessageID: id, Type: "identify", UserID: user,
				Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: []byte(raw)})
		}
		if _, err := st.InsertEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := profiles.NewFollower(st, profiles.Options{}).CatchUp(ctx, f.ws.ID); err != nil {
		t.Fatal(err)
	}
	f.startAudiences(`{"key":"pros","name":"Pros","condition":{"trait":"plan","op":"eq","value":"pro"}}`)
	eventually(t, 5*time.Minute, func() bool {
		c, _ := st.AudienceMemberCounts(ctx, f.ws.ID)
		return c["pros"] == int64(n)
	})
	t.Logf("seeded %d members in %s", n, time.Since(seed).Round(time.Millisecond))
	// Stored disabled; a probe journey with a 2 s wait runs beside it.
	news := `{"key":"news","name":"News","trigger":{"broadcast":"pros"},"steps":[{"id":"m","email":{"template":"t","group":"g"}}]}`
	if _, err := st.CreateJourney(ctx, f.ws.ID, "news", news, false); err != nil {
		t.Fatal(err)
	}
	f.journey(`{"key":"probe","name":"Probe","trigger":{"event":{"event":"Probe"}},"steps":[{"id":"w","wait":"2s"}]}`)
	e := f.engine(journeys.Options{Rate: rate})
	runtimeGC()
	base := peakRSS()

	start := time.Now()
	f.setEnabled("news", true)
	f.track("probe1", "u1", "Probe", nil)
	e.Notify()
	var entered, timersDone, first time.Duration
	sample := time.NewTicker(100 * time.Millisecond) // the benchmark's sampling of its milestones
	defer sample.Stop()
	for ; f.mailer.Count() < n; <-sample.C {
		el := time.Since(start)
		if el > 30*time.Minute {
			t.Fatalf("%d of %d emails after %s", f.mailer.Count(), n, el)
		}
		if first == 0 && f.mailer.Count() > 0 {
			first = el
		}
		if entered == 0 && f.stats("news").Entered == int64(n) {
			entered = el
		}
		if entered != 0 && timersDone == 0 && f.noTimers() {
			timersDone = el
		}
	}
	took := time.Since(start)
	if timersDone == 0 {
		timersDone = took // the last start timers fired with the last emails
	}
	t.Logf("%s: broadcast of %d emails in %s: %.0f emails/s (EMAIL_RATE %d); first email after %s; all entered after %s; start timers all fired after %s; "+
		"peak RSS of the test process (SMTP server, audiences engine and setup included) %s before, %s after",
		st.Dialect(), n, took.Round(time.Millisecond), float64(n)/took.Seconds(), rate, first.Round(time.Millisecond), entered.Round(time.Millisecond),
		timersDone.Round(time.Millisecond), base, peakRSS())
	// The probe: entered when the engine read its event, done when its
	// 2 s wait fired; the time past those 2 s is what the broadcast cost it.
	eventually(t, 5*time.Minute, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].Status == "completed" })
	p := f.instances("u1")[0]
	t.Logf("probe: entered %s after enabling, its 2 s wait fired %s late", p.EnteredAt.Sub(start).Round(time.Millisecond),
		(p.Since.Sub(p.EnteredAt) - 2*time.Second).Round(time.Millisecond))

	// Every member got exactly one: n sent rows for n distinct users, and
	// the server received no more than n.
	eventually(t, time.Minute, func() bool { return f.stats("news").Sent["m"] == int64(n) })
	users := map[string]int{}
	var before int64
	for {
		ms, err := st.Messages(ctx, f.ws.ID, store.MessageFilter{Journey: "news", Before: before, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			break
		}
		for _, m := range ms {
			if m.Status == "sent" {
				users[m.UserID]++
			}
			before = m.ID
		}
	}
	for j := range n {
		if c := users["member"+strconv.Itoa(j)]; c != 1 {
			t.Errorf("member%d: %d sent", j, c)
		}
	}
	if len(users) != n || f.mailer.Count() != n {
		t.Errorf("%d users sent to, %d emails received; want %d", len(users), f.mailer.Count(), n)
	}
}
