package status_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// flaky is the real store with a switch that makes it fail like a database
// that went away, to prove nothing is lost or counted twice meanwhile.
type flaky struct {
	*store.Store
	down  atomic.Bool
	saves atomic.Int64 // SaveDeliveries calls, failed or not
	// late makes the next saves commit and then report a deadline, as a
	// COMMIT that lands after the caller gave up does.
	late atomic.Int32
}

var errDown = errors.New("database is down")

func (f *flaky) SaveDeliveries(ctx context.Context, batch string, a []store.DeliveryAttempt, m []store.DeliveryMinute, keep int, drop time.Time) error {
	f.saves.Add(1)
	if f.down.Load() {
		return errDown
	}
	err := f.Store.SaveDeliveries(ctx, batch, a, m, keep, drop)
	if err == nil && f.late.Add(-1) >= 0 {
		return context.DeadlineExceeded
	}
	return err
}

func (f *flaky) LoadDeliveries(ctx context.Context, since time.Time, n int) (store.DeliveryHistory, error) {
	if f.down.Load() {
		return store.DeliveryHistory{}, errDown
	}
	return f.Store.LoadDeliveries(ctx, since, n)
}

// traffic records a mix of outcomes over several minutes; Postgres keeps
// microseconds, so times are whole milliseconds.
func traffic(g *status.Aggregator, clk *clock, ws uuid.UUID, n int) {
	outs := []string{status.OutcomeAccepted, status.OutcomeDuplicate, status.OutcomeBadSignature, status.OutcomeNoSecret,
		status.OutcomeBadBody, status.OutcomeTooLarge, status.OutcomeUnavailable, status.OutcomeBadKey}
	for i := range n {
		o := outs[i%len(outs)]
		a := status.Attempt{At: clk.add(17*time.Second + time.Millisecond), WorkspaceID: ws, Source: "webhook", Outcome: o, Status: 200}
		switch o {
		case status.OutcomeAccepted:
			a.Accepted, a.Duplicates = 3, 1
		case status.OutcomeDuplicate:
			a.Duplicates = 2
		default:
			a.Status, a.Reason = 400+i%100, fmt.Sprintf("reason %d <b>", i)
		}
		g.Record(a)
	}
}

func TestStatusSurvivesARestart(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		other, _ := st.CreateWorkspace(ctx, "Other")
		clk := newClock(t0)
		before := status.NewAggregator(st, status.Options{Now: clk.now})
		if err := before.Load(ctx); err != nil {
			t.Fatal(err)
		}
		traffic(before, clk, def.ID, 150) // ~43 minutes: part of it already out of the window
		if err := before.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		traffic(before, clk, def.ID, 30)
		traffic(before, clk, other.ID, 5)
		if err := before.Close(ctx); err != nil { // the shutdown flush
			t.Fatal(err)
		}

		after := status.NewAggregator(st, status.Options{Now: clk.now})
		if err := after.Load(ctx); err != nil {
			t.Fatal(err)
		}
		for _, ws := range []uuid.UUID{def.ID, other.ID} {
			want, got := before.Snapshot(ws), after.Snapshot(ws)
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("workspace %s after restart:\n got %+v\nwant %+v", ws, got, want)
			}
		}
		if s := after.Snapshot(def.ID); s.Hour.Requests == 0 || len(s.Recent) != status.RecentAttempts || s.LastAccepted.IsZero() {
			t.Fatalf("restart kept too little: %+v", s)
		}
	})
}

func TestFlushRetriesWhileTheDatabaseIsDown(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		db := &flaky{Store: st}
		db.down.Store(true)
		clk := newClock(t0)
		g := status.NewAggregator(db, status.Options{Now: clk.now})
		if err := g.Load(ctx); err == nil {
			t.Fatal("load from a down database succeeded")
		}
		traffic(g, clk, def.ID, 40)
		if err := g.Flush(ctx); !errors.Is(err, errDown) {
			t.Fatalf("flush while down = %v", err)
		}
		traffic(g, clk, def.ID, 40)
		db.down.Store(false)
		if err := g.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// The start-up load that failed now happens after a flush: the
		// flushed counts must not be added twice.
		want := g.Snapshot(def.ID)
		if err := g.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := g.Snapshot(def.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("late load changed the status:\n got %+v\nwant %+v", got.Hour, want.Hour)
		}
		fresh := status.NewAggregator(st, status.Options{Now: clk.now})
		if err := fresh.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fresh.Snapshot(def.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("after an outage and a restart:\n got %+v\nwant %+v", got.Hour, want.Hour)
		}
	})
}

// TestALateCommitIsNotCountedTwice: a save that committed but reported a
// failure (the deadline passed during COMMIT) is retried under its key, so
// the database, a reload and a restart all count each delivery once.
func TestALateCommitIsNotCountedTwice(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		db := &flaky{Store: st}
		clk := newClock(t0)
		g := status.NewAggregator(db, status.Options{Now: clk.now})
		if err := g.Load(ctx); err != nil {
			t.Fatal(err)
		}
		traffic(g, clk, def.ID, 20)
		db.late.Store(2) // the flush and the reload's retry both land late
		if err := g.Flush(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("late flush = %v", err)
		}
		if err := g.Load(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("load retrying the late batch = %v", err)
		}
		traffic(g, clk, def.ID, 20)
		if err := g.Flush(ctx); err != nil { // retries the batch, then the new one
			t.Fatal(err)
		}
		want := g.Snapshot(def.ID)
		if err := g.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := g.Snapshot(def.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("reload after a late commit:\n got %+v\nwant %+v", got.Hour, want.Hour)
		}
		fresh := status.NewAggregator(st, status.Options{Now: clk.now})
		if err := fresh.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fresh.Snapshot(def.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("restart after a late commit:\n got %+v\nwant %+v", got.Hour, want.Hour)
		}
	})
}

func TestFlusherRunsInTheBackground(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	ctx := context.Background()
	def, _ := st.DefaultWorkspace(ctx)
	rounds := make(chan error, 1)
	g := status.NewAggregator(st, status.Options{FlushEvery: 20 * time.Millisecond, Flushed: func(err error) {
		select {
		case rounds <- err:
		default: // the test reads the latest rounds only
		}
	}})
	g.Start(ctx)
	g.Record(status.Attempt{WorkspaceID: def.ID, Source: "webhook", Outcome: status.OutcomeAccepted, Status: 200, Accepted: 1})
	// Wait for background rounds (not for time) until one has saved the
	// attempt; each round ends with a reload, so a round that returns nil
	// after the record was taken has it in the database.
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		var err error
		select {
		case err = <-rounds:
		case <-wait.Done():
			t.Fatal("no background flush saved the attempt within 30s")
		}
		if err != nil {
			continue
		}
		h, err := st.LoadDeliveries(ctx, time.Now().Add(-time.Hour), 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Attempts) > 1 || len(h.Minutes) > 1 || (len(h.Minutes) == 1 && h.Minutes[0].Requests != 1) {
			t.Fatalf("one attempt saved more than once: %+v", h)
		}
		if len(h.Attempts) == 1 && len(h.Minutes) == 1 {
			break
		}
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := st.LoadDeliveries(ctx, time.Now().Add(-time.Hour), 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Attempts) != 1 || len(h.Minutes) != 1 || h.Minutes[0].Requests != 1 {
		t.Fatalf("after Close: %+v", h)
	}
}

// Issue 19 item 11: `docker compose restart` stops PostgreSQL while Inlet
// writes its last status counts. The shutdown flush retries briefly: a
// database back within a few seconds gets them; one that stays away makes
// Close give up within its bound, not hang.
func TestCloseRetriesTheLastFlushBriefly(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		db := &flaky{Store: st}
		clk := newClock(t0)
		g := status.NewAggregator(db, status.Options{Now: clk.now})
		if err := g.Load(ctx); err != nil {
			t.Fatal(err)
		}
		traffic(g, clk, def.ID, 20)
		want := g.Snapshot(def.ID)
		db.down.Store(true)
		closed := make(chan error, 1)
		go func() { closed <- g.Close(ctx) }()
		// The database comes back after Close has tried and failed twice.
		for db.saves.Load() < 2 {
			select {
			case err := <-closed:
				t.Fatalf("Close returned while the database was down: %v", err)
			case <-time.After(5 * time.Millisecond):
			}
		}
		db.down.Store(false)
		if err := <-closed; err != nil {
			t.Fatalf("Close with the database back within the retry: %v", err)
		}
		fresh := status.NewAggregator(st, status.Options{Now: clk.now})
		if err := fresh.Load(ctx); err != nil {
			t.Fatal(err)
		}
		if got := fresh.Snapshot(def.ID); !reflect.DeepEqual(got, want) {
			t.Fatalf("counts after the retried shutdown flush:\n got %+v\nwant %+v", got.Hour, want.Hour)
		}

		// Down for good: Close gives up within the caller's deadline.
		g2 := status.NewAggregator(db, status.Options{Now: clk.now})
		traffic(g2, clk, def.ID, 5)
		db.down.Store(true)
		dctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := g2.Close(dctx); !errors.Is(err, errDown) {
			t.Fatalf("Close with the database gone = %v, want the store's error", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("Close took %v past its 300ms deadline", took)
		}
	})
}
