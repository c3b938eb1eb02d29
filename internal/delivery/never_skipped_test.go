package delivery_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// The serial-id gap: many writers commit concurrently (so ids become visible
// out of order) while the worker delivers. Every committed event must reach
// the receiver.
func TestConcurrentWritersNothingSkipped(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		createDestination(t, st, ws.ID, r.srv.URL)
		startManager(t, st, testOptions())
		const writers, per, batch = 6, 60, 5
		var all []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i += batch {
					ids := make([]string, batch)
					for j := range ids {
						ids[j] = fmt.Sprintf("w%d-%03d", w, i+j)
					}
					insert(t, st, ws.ID, "track", ids...)
					mu.Lock()
					all = append(all, ids...)
					mu.Unlock()
					time.Sleep(time.Duration(w) * time.Millisecond)
				}
			}()
		}
		wg.Wait()
		testutil.WaitWithin(t, 30*time.Second, fmt.Sprintf("%d events from %d concurrent writers", writers*per, writers), func() bool {
			return deliveredAll(r, all)
		})
	})
}

// The gap made deterministic: a transaction takes a lower id, a later one
// commits a higher id and is delivered, then the first commits. Its event
// must still be delivered.
func TestLateCommitDelivered(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url, "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := newReceiver(t)
	createDestination(t, st, ws.ID, r.srv.URL)
	sig := &signals{}
	o := testOptions()
	o.Signal = sig.record
	startManager(t, st, o)

	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	slow, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback() //nolint:errcheck // committed below
	if _, err := slow.ExecContext(ctx, `INSERT INTO events (workspace_id, message_id, type, received_at, raw)
		VALUES ($1, 'late', 'track', now(), $2)`, ws.ID.String(), string(rawEvent("late", "track"))); err != nil {
		t.Fatal(err)
	}
	insert(t, st, ws.ID, "track", "early")
	// The early event waits behind the open transaction (the feed holds it
	// back), so nothing arrives yet; then both arrive once it commits. The
	// worker reports that it looked at the feed and had nothing to send.
	sig.waitIdle(t, "the worker to read the feed behind the open transaction")
	if n := len(r.all()); n != 0 {
		t.Fatalf("%d deliveries while a lower transaction was still open", n)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitWithin(t, 10*time.Second, "the late and the early event", func() bool { return deliveredAll(r, []string{"late", "early"}) })
}

// A receiver that is down (connection refused, then 503s) for a while and
// then recovers gets every event committed meanwhile.
func TestReceiverOutageRecovers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		var down atomic.Bool
		down.Store(true)
		r.setAnswer(func(hit, int) (int, http.Header) {
			if down.Load() {
				return http.StatusServiceUnavailable, nil
			}
			return http.StatusOK, nil
		})
		createDestination(t, st, ws.ID, r.srv.URL)
		o := testOptions()
		o.Retry.Schedule = []time.Duration{200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond}
		startManager(t, st, o)
		refused := func() int {
			n := 0
			for _, h := range r.all() {
				if h.status == http.StatusServiceUnavailable {
					n++
				}
			}
			return n
		}
		var ids []string
		outageStart := time.Now()
		for i := range 10 {
			batch := mids(fmt.Sprintf("out%d", i), 20)
			before := refused()
			insert(t, st, ws.ID, "track", batch...)
			ids = append(ids, batch...)
			// The outage goes on while the worker keeps trying: each batch
			// waits for one more refused attempt, so the worker meets the
			// dead receiver again and again however slow the machine is.
			testutil.Wait(t, "an attempt during the outage", func() bool { return refused() > before })
		}
		down.Store(false)
		outage := time.Since(outageStart)
		for i := range 5 {
			batch := mids(fmt.Sprintf("after%d", i), 20)
			insert(t, st, ws.ID, "track", batch...)
			ids = append(ids, batch...)
		}
		testutil.WaitWithin(t, 30*time.Second, "every event after the outage", func() bool { return deliveredAll(r, ids) })
		failedDuringOutage := 0
		for _, h := range r.all() {
			if h.status == http.StatusServiceUnavailable {
				failedDuringOutage++
			}
		}
		if failedDuringOutage == 0 {
			t.Fatal("the receiver never refused anything: the outage proved nothing")
		}
		// While down the worker probes with single events instead of
		// turning the whole feed into retries.
		// The bound is a rate (100 per 1.5 s, as on an idle machine), so a
		// loaded machine, where the outage lasts longer, does not fail it;
		// load slows the worker, it never makes it try more often.
		if limit := max(100, int(100*outage/(1500*time.Millisecond))); failedDuringOutage > limit {
			t.Errorf("%d attempts during a %s outage of 200 events (limit %d): the worker hammered a dead receiver", failedDuringOutage, outage.Round(time.Millisecond), limit)
		}
		t.Logf("%d refused attempts during a %s outage", failedDuringOutage, outage.Round(time.Millisecond))
	})
}

// A paused destination sends nothing and, resumed, carries on where it
// stopped; a 410 Gone pauses it by itself and says why.
func TestPauseResumeAndGone(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		d := createDestination(t, st, ws.ID, r.srv.URL)
		sig := &signals{}
		o := testOptions()
		o.Signal = sig.record
		startManager(t, st, o)
		insert(t, st, ws.ID, "track", "p1")
		testutil.WaitWithin(t, 10*time.Second, "p1", func() bool { return deliveredAll(r, []string{"p1"}) })
		if err := st.SetDestinationPaused(ctx, ws.ID, d.ID, true, "maintenance"); err != nil {
			t.Fatal(err)
		}
		// The worker sees the pause at its next reload (≤ LeaseTTL/3) and stops.
		testutil.Wait(t, "the worker to stop on the pause", func() bool { _, _, n := sig.counts(); return n >= 1 })
		before := len(r.all())
		insert(t, st, ws.ID, "track", mids("paused", 30)...)
		// The manager looks for destinations to work and starts none.
		sig.waitScans(t, "the manager to look at the paused destination")
		if n := len(r.all()) - before; n != 0 {
			t.Fatalf("a paused destination got %d requests", n)
		}
		if err := st.SetDestinationPaused(ctx, ws.ID, d.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		testutil.WaitWithin(t, 10*time.Second, "the events sent while paused", func() bool { return deliveredAll(r, mids("paused", 30)) })

		// 410 Gone: paused with the reason; the event is sent again on resume.
		var gone atomic.Bool
		gone.Store(true)
		r.setAnswer(func(hit, int) (int, http.Header) {
			if gone.Load() {
				return http.StatusGone, nil
			}
			return http.StatusOK, nil
		})
		insert(t, st, ws.ID, "track", "g1")
		testutil.WaitWithin(t, 10*time.Second, "the 410 to pause the destination", func() bool {
			d, _ = st.Destination(ctx, ws.ID, d.ID)
			return d.Paused
		})
		if d.PausedReason == "" {
			t.Error("paused by 410 without a reason")
		}
		gone.Store(false)
		if err := st.SetDestinationPaused(ctx, ws.ID, d.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		testutil.WaitWithin(t, 10*time.Second, "g1 after resuming", func() bool { return deliveredAll(r, []string{"g1"}) })
	})
}

// Replay re-sends the events of a time range with the same webhook-id.
func TestReplaySameWebhookID(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		d := createDestination(t, st, ws.ID, r.srv.URL, "track")
		startManager(t, st, testOptions())
		from := time.Now().Add(-time.Second)
		insert(t, st, ws.ID, "track", "r1", "r2")
		insert(t, st, ws.ID, "identify", "r3") // not a type the destination wants
		testutil.WaitWithin(t, 10*time.Second, "first delivery", func() bool { return deliveredAll(r, []string{"r1", "r2"}) })
		first := map[string]string{}
		for _, h := range r.all() {
			first[midOf(h.body)] = h.id
		}
		if _, ok := first["r3"]; ok {
			t.Fatal("an identify event went to a destination that wants only track")
		}
		n, err := st.ReplayDestination(ctx, d, store.EventFilter{From: from, To: time.Now().Add(time.Second)})
		if err != nil || n != 2 {
			t.Fatalf("replay queued %d events (%v), want 2 (the identify is not wanted)", n, err)
		}
		testutil.WaitWithin(t, 10*time.Second, "the replay", func() bool { return len(r.all()) >= 4 })
		count := map[string]int{}
		for _, h := range r.all() {
			mid := midOf(h.body)
			count[mid]++
			if h.id != first[mid] {
				t.Errorf("replayed %s with webhook-id %q, first sent with %q", mid, h.id, first[mid])
			}
		}
		if count["r1"] != 2 || count["r2"] != 2 || count["r3"] != 0 {
			t.Errorf("deliveries per event after replay: %v", count)
		}
	})
}

// Two instances share the destinations: leases make exactly one work each,
// so with no failures every event arrives exactly once.
func TestTwoInstancesOneWorkerPerDestination(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		createDestination(t, st, ws.ID, r.srv.URL)
		a, b := testOptions(), testOptions()
		a.Owner, b.Owner = "instance-a", "instance-b"
		startManager(t, st, a)
		mb := startManager(t, st, b)
		ids := mids("two", 300)
		for i := 0; i < len(ids); i += 50 {
			insert(t, st, ws.ID, "track", ids[i:i+50]...)
		}
		testutil.WaitWithin(t, 20*time.Second, "every event", func() bool { return deliveredAll(r, ids) })
		if n := len(r.all()); n != len(ids) {
			t.Errorf("%d requests for %d events: two instances worked one destination", n, len(ids))
		}
		// Stopping one instance hands the destination to the other at once.
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = mb.Close(cctx)
		more := mids("after-close", 20)
		insert(t, st, ws.ID, "track", more...)
		testutil.WaitWithin(t, 10*time.Second, "events after one instance stopped", func() bool { return deliveredAll(r, more) })
	})
}

// Cloud metadata addresses are refused when connecting, and so are networks
// in the deny list, even when the URL names a host rather than an address.
func TestNetGuardRefusesAtConnect(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	ctx := context.Background()
	ws, _ := st.DefaultWorkspace(ctx)
	r := newReceiver(t)
	// localhost resolves to 127.0.0.1: the guard sees the resolved address.
	url := "http://localhost:" + r.srv.Listener.Addr().String()[len("127.0.0.1:"):]
	d := createDestination(t, st, ws.ID, url)
	o := testOptions()
	deny, _ := netipPrefixes("127.0.0.0/8")
	o.Guard = &delivery.NetGuard{Deny: deny}
	startManager(t, st, o)
	insert(t, st, ws.ID, "track", "blocked")
	testutil.WaitWithin(t, 10*time.Second, "a refused attempt", func() bool {
		atts, _ := st.DestinationAttempts(ctx, d.ID, 5)
		return len(atts) > 0
	})
	atts, _ := st.DestinationAttempts(ctx, d.ID, 5)
	if atts[0].Status != 0 || !contains(atts[0].Reason, "DESTINATION_DENY_NETWORKS") {
		t.Errorf("attempt to a denied network: status %d reason %q", atts[0].Status, atts[0].Reason)
	}
	if len(r.all()) != 0 {
		t.Fatal("the receiver on a denied network was reached")
	}
	g := &delivery.NetGuard{}
	for _, u := range []string{"http://169.254.169.254/latest/meta-data", "http://[fd00:ec2::254]/", "ftp://example.com", "http://user:pw@example.com/"} {
		if _, err := g.ValidateURL(u); err == nil {
			t.Errorf("ValidateURL(%q) accepted it", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:9000/hook", "https://10.1.2.3/x", "http://receiver.internal/hook"} {
		if _, err := g.ValidateURL(u); err != nil {
			t.Errorf("ValidateURL(%q): %v (loopback and private networks are allowed by default)", u, err)
		}
	}
	if _, err := (&delivery.NetGuard{AllowMetadata: true}).ValidateURL("http://169.254.169.254/"); err != nil {
		t.Errorf("metadata refused although allowed: %v", err)
	}
}

// Deleting a destination while its worker runs, with deliveries waiting for
// a retry and its circuit open, drops them with it: the worker stops without
// a crash or an error loop, the receiver gets nothing more, and another
// destination of the workspace carries on.
func TestDeleteWhileWorking(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		failing := newReceiver(t)
		failing.setAnswer(func(hit, int) (int, http.Header) { return http.StatusServiceUnavailable, nil })
		ok := newReceiver(t)
		gone := createDestination(t, st, ws.ID, failing.srv.URL)
		createDestination(t, st, ws.ID, ok.srv.URL)
		o := testOptions()
		o.ProbeMin, o.ProbeMax = 50*time.Millisecond, 50*time.Millisecond
		startManager(t, st, o)
		first := mids("first", 10)
		insert(t, st, ws.ID, "track", first...)
		testutil.WaitWithin(t, 20*time.Second, "the failing destination's circuit to open", func() bool {
			d, err := st.DestinationByID(ctx, gone.ID)
			return err == nil && d.Circuit.Open()
		})
		if s, err := st.DestinationStats(ctx, gone); err != nil || s.Retrying == 0 {
			t.Fatalf("nothing waiting before the delete: %+v %v", s, err)
		}
		if err := st.DeleteDestination(ctx, ws.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		if s, err := st.DestinationStats(ctx, gone); err != nil || s.Retrying != 0 || s.Failed != 0 {
			t.Fatalf("retries left after the delete: %+v %v", s, err)
		}
		if atts, err := st.DestinationAttempts(ctx, gone.ID, 10); err != nil || len(atts) != 0 {
			t.Fatalf("%d attempts left after the delete (%v)", len(atts), err)
		}
		n := len(failing.all())
		then := mids("then", 10)
		insert(t, st, ws.ID, "track", then...)
		testutil.WaitWithin(t, 20*time.Second, "the other destination", func() bool { return deliveredAll(ok, append(first, then...)) })
		// A live worker would have probed every 50 ms meanwhile, with these
		// new events too; at most an attempt in flight at the delete ends.
		late := failing.all()[n:]
		for _, h := range late {
			if strings.HasPrefix(midOf(h.body), "then") {
				t.Fatal("an event stored after the delete reached the deleted destination")
			}
		}
		if len(late) > 1 {
			t.Errorf("%d attempts reached the deleted destination's receiver after the delete", len(late))
		}
	})
}
