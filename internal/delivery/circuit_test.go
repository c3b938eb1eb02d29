package delivery_test

import (
	"github.com/inlet-dev/inlet/internal/testutil"

	"context"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// restartable is a receiver whose HTTP server really stops (its port
// refuses connections) and starts again on the same address.
type restartable struct {
	t    *testing.T
	r    *receiver
	addr string
	srv  *http.Server
}

func newRestartable(t *testing.T) *restartable {
	t.Helper()
	rs := &restartable{t: t, r: newReceiver(t)}
	rs.r.srv.Close() // only its handler is used
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rs.addr = l.Addr().String()
	rs.serve(l)
	t.Cleanup(func() { rs.stop() })
	return rs
}

func (rs *restartable) url() string { return "http://" + rs.addr + "/hook" }

func (rs *restartable) serve(l net.Listener) {
	rs.srv = &http.Server{Handler: http.HandlerFunc(rs.r.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = rs.srv.Serve(l) }()
}

func (rs *restartable) stop() {
	if rs.srv != nil {
		_ = rs.srv.Close() // closes the listener and every open connection
		rs.srv = nil
	}
}

func (rs *restartable) start() {
	rs.t.Helper()
	l, err := net.Listen("tcp", rs.addr)
	if err != nil {
		rs.t.Fatalf("listen again on %s: %v", rs.addr, err)
	}
	rs.serve(l)
}

func circuitOf(t *testing.T, st *store.Store, d store.Destination) store.Circuit {
	t.Helper()
	got, err := st.DestinationByID(context.Background(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.Circuit
}

// A receiver that stops (connections refused) while events keep coming and
// then starts again gets every event within seconds of coming back, with
// Svix's real schedule (whose next steps are 5 s and 5 min): the circuit
// probes instead, and the first answer drains the backlog. The circuit's
// state is stored for the destination's page while it is open.
func TestCircuitOutageDrainsBacklog(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		rs := newRestartable(t)
		d := createDestination(t, st, ws.ID, rs.url())
		rs.r.secret = d.Secret
		o := testOptions()
		o.Retry = delivery.Policy{Schedule: delivery.DefaultSchedule, RetryFor: time.Hour}
		startManager(t, st, o)

		before := mids("before", 20)
		insert(t, st, ws.ID, "track", before...)
		testutil.WaitWithin(t, 20*time.Second, "delivery while the receiver is up", func() bool { return deliveredAll(rs.r, before) })

		rs.stop()
		var during []string
		for i := range 40 { // events keep arriving during the outage
			batch := mids(fmt.Sprintf("during%02d", i), 3)
			insert(t, st, ws.ID, "track", batch...)
			during = append(during, batch...)
			if i == 5 {
				testutil.WaitWithin(t, 20*time.Second, "the circuit to open", func() bool { return circuitOf(t, st, d).Open() })
			}
		}
		testutil.WaitWithin(t, 20*time.Second, "a failed probe", func() bool { return circuitOf(t, st, d).Probes >= 1 })
		c := circuitOf(t, st, d)
		if c.NextProbe == nil || c.Reason == "" {
			t.Fatalf("open circuit stored without its next probe or reason: %+v", c)
		}

		rs.start()
		back := time.Now()
		testutil.WaitWithin(t, 30*time.Second, "every event of the outage after recovery", func() bool { return deliveredAll(rs.r, during) })
		took := time.Since(back)
		// Probes wait 0.5 s doubling: a few seconds of outage leaves at
		// most one step of a few seconds; the schedule's next step is 5 min.
		if took > 25*time.Second {
			t.Errorf("backlog delivered %s after recovery, want within 25 s", took)
		}
		testutil.WaitWithin(t, 10*time.Second, "the circuit to close", func() bool { return !circuitOf(t, st, d).Open() })
		for _, h := range rs.r.all() {
			if h.verified != nil {
				t.Fatalf("delivery %s failed verification: %v", h.id, h.verified)
			}
		}
		t.Logf("backlog of %d events delivered %s after the receiver came back", len(during), took)
	})
}

// While the receiver answers 503, it gets at most one probe per backoff
// step (here 0.1 s doubling to 0.4 s), a probe's Retry-After pushes the next
// probe back beyond the step, and an event's own Retry-After holds through
// the drain that follows.
func TestCircuitProbesOncePerStepAndKeepsRetryAfter(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		var down atomic.Bool
		var probeRetryAfter atomic.Bool
		down.Store(true)
		r.setAnswer(func(h hit, n int) (int, http.Header) {
			if midOf(h.body) == "held" && n == 0 {
				return http.StatusServiceUnavailable, http.Header{"Retry-After": {"3"}}
			}
			if down.Load() {
				if probeRetryAfter.Load() {
					return http.StatusServiceUnavailable, http.Header{"Retry-After": {"2"}}
				}
				return http.StatusServiceUnavailable, nil
			}
			return http.StatusOK, nil
		})
		d := createDestination(t, st, ws.ID, r.srv.URL)
		o := testOptions()
		o.Retry = delivery.Policy{Schedule: delivery.DefaultSchedule, RetryFor: time.Hour}
		o.ProbeMin, o.ProbeMax = 100*time.Millisecond, 400*time.Millisecond
		startManager(t, st, o)
		insert(t, st, ws.ID, "track", "held")
		for i := range 9 {
			insert(t, st, ws.ID, "track", fmt.Sprintf("down-%d", i))
		}
		testutil.WaitWithin(t, 20*time.Second, "the circuit to open", func() bool { return circuitOf(t, st, d).Open() })
		opened := len(r.all())
		testutil.WaitWithin(t, 30*time.Second, "five failed probes", func() bool { return circuitOf(t, st, d).Probes >= 5 })
		probes := r.all()[opened:]
		for i := 1; i < len(probes); i++ {
			gap := probes[i].at.Sub(probes[i-1].at)
			want := min(100*time.Millisecond<<(i-1), 400*time.Millisecond)
			if gap < want*9/10 {
				t.Errorf("probe %d came %s after the previous one, want ≥ %s (one per backoff step)", i, gap, want)
			}
		}
		if len(probes) > 7 {
			t.Errorf("%d probes before the fifth failure was recorded", len(probes))
		}
		// A probe answered with Retry-After: 2 delays the next one by 2 s,
		// five times the backoff step.
		probeRetryAfter.Store(true)
		n := len(r.all())
		testutil.WaitWithin(t, 30*time.Second, "a probe answered with Retry-After", func() bool { return len(r.all()) > n })
		testutil.WaitWithin(t, 30*time.Second, "the probe after it", func() bool { return len(r.all()) > n+1 })
		all := r.all()
		if gap := all[n+1].at.Sub(all[n].at); gap < 1900*time.Millisecond {
			t.Errorf("probe %s after one answered Retry-After: 2", gap)
		}
		probeRetryAfter.Store(false)
		down.Store(false)
		testutil.WaitWithin(t, 30*time.Second, "the backlog after recovery", func() bool {
			return deliveredAll(r, []string{"down-0", "down-1", "down-2", "down-3", "down-4", "down-5", "down-6", "down-7", "down-8"})
		})
		testutil.WaitWithin(t, 30*time.Second, "the held event", func() bool { return deliveredAll(r, []string{"held"}) })
		var first, ok time.Time
		for _, h := range r.all() {
			if midOf(h.body) == "held" {
				if first.IsZero() {
					first = h.at
				}
				if h.status == http.StatusOK {
					ok = h.at
				}
			}
		}
		if ok.Sub(first) < 2900*time.Millisecond {
			t.Errorf("event sent %s after its receiver asked Retry-After: 3", ok.Sub(first))
		}
	})
}

// One event the receiver keeps refusing with 500 (retried every 50 ms)
// among events it accepts does not open the circuit: the others flow and it
// follows its own schedule.
func TestCircuitOneFailingEventDoesNotOpen(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		r.setAnswer(func(h hit, n int) (int, http.Header) {
			if midOf(h.body) == "poison" {
				return http.StatusInternalServerError, nil
			}
			return http.StatusOK, nil
		})
		d := createDestination(t, st, ws.ID, r.srv.URL)
		o := testOptions()
		o.Retry.Schedule = []time.Duration{50 * time.Millisecond}
		startManager(t, st, o)
		insert(t, st, ws.ID, "track", "poison")
		for i := range 20 {
			id := fmt.Sprintf("ok-%02d", i)
			insert(t, st, ws.ID, "track", id)
			testutil.WaitWithin(t, 20*time.Second, id, func() bool { return deliveredAll(r, []string{id}) })
			if c := circuitOf(t, st, d); c.Open() {
				t.Fatalf("circuit opened by one failing event among successes: %+v", c)
			}
		}
		tries := 0
		for _, h := range r.all() {
			if midOf(h.body) == "poison" {
				tries++
			}
		}
		if tries < 5 {
			t.Fatalf("the failing event was tried %d times: too few for the test to prove anything", tries)
		}
	})
}
