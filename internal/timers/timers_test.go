package timers_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/timers"
	"github.com/jackc/pgx/v5"
)

func defaultWS(t *testing.T, st *store.Store) uuid.UUID {
	t.Helper()
	ws, err := st.EnsureDefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ws.ID
}

// A timer fires once it is due, not before, and a handler's failure or a
// lost worker leaves it to fire again: the row is the timer, not memory.
func TestTimersFireWhenDueAndSurviveFailures(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		ws := defaultWS(t, st)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		if err := st.SetTimers(ctx, "test", ws, []store.TimerSet{
			{Key: "past", Due: now.Add(-time.Second)}, {Key: "soon", Due: now.Add(time.Minute)}, {Key: "gone", Due: now},
		}); err != nil {
			t.Fatal(err)
		}
		if err := st.SetTimers(ctx, "test", ws, []store.TimerSet{{Key: "gone"}}); err != nil {
			t.Fatal(err)
		}
		var fired []string
		fail := true
		handler := func(_ context.Context, due []store.Timer) error {
			for _, d := range due {
				fired = append(fired, d.Key)
			}
			if fail {
				return errors.New("handler down")
			}
			return nil
		}
		w := timers.New(st, timers.Options{Now: clock, Lease: time.Minute})
		w.Register("test", handler)
		if n, err := w.Fire(ctx); n != 1 || err == nil {
			t.Fatalf("first fire: %d, %v; want 1 and the handler's error", n, err)
		}
		// Claimed: a second worker (another instance) does not take it during the lease.
		w2 := timers.New(st, timers.Options{Now: clock, Lease: time.Minute})
		w2.Register("test", handler)
		if n, _ := w2.Fire(ctx); n != 0 {
			t.Fatalf("a claimed timer was claimed again within its lease (%d)", n)
		}
		// After the lease (the first worker died) a restarted worker fires it.
		now = now.Add(2 * time.Minute)
		fail = false
		if n, err := w2.Fire(ctx); n != 2 || err != nil {
			t.Fatalf("after the lease: %d, %v; want past and soon", n, err)
		}
		if n, _ := w2.Fire(ctx); n != 0 {
			t.Fatalf("finished timers fired again (%d)", n)
		}
		if len(fired) != 3 || fired[0] != "past" {
			t.Fatalf("fired %v", fired)
		}
		next, err := st.NextTimer(ctx)
		if err != nil || !next.IsZero() {
			t.Fatalf("timers left: %v %v", next, err)
		}
	})
}

// A handler that moves its own timer keeps it; two workers racing for the
// same due timers fire each exactly once.
func TestTimersRescheduleAndRace(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		ws := defaultWS(t, st)
		now := time.Now()
		var sets []store.TimerSet
		for i := range 60 {
			sets = append(sets, store.TimerSet{Key: uuid.NewString(), Due: now.Add(-time.Duration(i) * time.Millisecond)})
		}
		if err := st.SetTimers(ctx, "race", ws, sets); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		count := map[string]int{}
		h := func(_ context.Context, due []store.Timer) error {
			mu.Lock()
			defer mu.Unlock()
			for _, d := range due {
				count[d.Key]++
			}
			return nil
		}
		var wg sync.WaitGroup
		for range 3 {
			w := timers.New(st, timers.Options{Batch: 7})
			w.Register("race", h)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := w.Fire(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
				}
			}()
		}
		wg.Wait()
		if len(count) != 60 {
			t.Fatalf("%d of 60 timers fired", len(count))
		}
		for k, n := range count {
			if n != 1 {
				t.Fatalf("timer %s fired %d times", k, n)
			}
		}

		// A handler moving its timer to later keeps the row for that instant.
		if err := st.SetTimers(ctx, "again", ws, []store.TimerSet{{Key: "k", Due: now.Add(-time.Second)}}); err != nil {
			t.Fatal(err)
		}
		later := now.Add(time.Hour)
		w := timers.New(st, timers.Options{})
		w.Register("again", func(ctx context.Context, due []store.Timer) error {
			return st.SetTimers(ctx, "again", ws, []store.TimerSet{{Key: "k", Due: later}})
		})
		if n, err := w.Fire(ctx); n != 1 || err != nil {
			t.Fatalf("fire: %d %v", n, err)
		}
		next, err := st.NextTimer(ctx)
		if err != nil || !next.Equal(later.Truncate(time.Microsecond)) && !next.Equal(later) {
			t.Fatalf("moved timer: next %v (%v), want %v", next, err, later)
		}
	})
}

// The running worker fires a due timer within 2 s, with no call from the test.
func TestTimersWorkerFiresOnTime(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		ws := defaultWS(t, st)
		firedAt := make(chan time.Time, 1)
		w := timers.New(st, timers.Options{})
		w.Register("ontime", func(_ context.Context, due []store.Timer) error {
			select {
			case firedAt <- time.Now():
			default:
			}
			return nil
		})
		w.Start(ctx)
		t.Cleanup(func() { _ = w.Close(context.Background()) })
		due := time.Now().Add(500 * time.Millisecond)
		if err := st.SetTimers(ctx, "ontime", ws, []store.TimerSet{{Key: "k", Due: due}}); err != nil {
			t.Fatal(err)
		}
		select {
		case at := <-firedAt:
			if at.Before(due) || at.Sub(due) > 2*time.Second {
				t.Fatalf("fired at %v, due %v", at, due)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the timer never fired")
		}
	})
}

// Bulk timers (a broadcast's thousands, all due at once) take only the room
// a batch leaves: a wait of another kind that falls due among them fires in
// the first batch, not after all of them.
func TestBulkKindsYieldToOtherKinds(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		ws := defaultWS(t, st)
		now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		var bulk []store.TimerSet
		for i := range 30 {
			bulk = append(bulk, store.TimerSet{Key: "member-" + string(rune('a'+i)), Due: now.Add(-time.Minute)})
		}
		if err := st.SetTimers(ctx, "bulk", ws, bulk); err != nil {
			t.Fatal(err)
		}
		if err := st.SetTimers(ctx, "wait", ws, []store.TimerSet{{Key: "probe", Due: now}}); err != nil {
			t.Fatal(err)
		}
		var fired []string
		record := func(_ context.Context, due []store.Timer) error {
			for _, d := range due {
				fired = append(fired, d.Kind+":"+d.Key)
			}
			return nil
		}
		w := timers.New(st, timers.Options{Now: func() time.Time { return now }, Batch: 10})
		w.RegisterBulk("bulk", record)
		w.Register("wait", record)
		if n, err := w.Fire(ctx); n != 10 || err != nil {
			t.Fatalf("first fire: %d, %v; want a full batch of 10", n, err)
		}
		probe := 0
		for _, f := range fired {
			if f == "wait:probe" {
				probe++
			}
		}
		if probe != 1 || len(fired) != 10 {
			t.Fatalf("first batch fired %v: want the wait (due after every bulk timer) and 9 bulk ones", fired)
		}
		for {
			n, err := w.Fire(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if len(fired) != 31 {
			t.Fatalf("fired %d timers in all, want 31", len(fired))
		}
	})
}

// A claim takes at most its batch, quickly, even when PostgreSQL's
// statistics say the timers table is empty: emptied, analyzed, then filled
// by a burst (thousands of window edges at once). A plan chosen for an
// empty table once re-ran the claim's subquery for every row, claiming
// every due timer and taking seconds per thousand.
func TestClaimHoldsItsBatchOnStaleStatistics(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws := defaultWS(t, st)
	now := time.Now()
	burst := func(prefix string) {
		sets := make([]store.TimerSet, 3000)
		for i := range sets {
			sets[i] = store.TimerSet{Key: fmt.Sprintf("%s%d", prefix, i), Due: now.Add(-time.Minute)}
		}
		if err := st.SetTimers(ctx, "test", ws, sets); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	burst("old")
	if _, err := conn.Exec(ctx, "DELETE FROM timers"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE timers"); err != nil {
		t.Fatal(err)
	}
	burst("new")
	due, err := st.ClaimTimers(ctx, now, time.Minute, 200, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 200 {
		t.Fatalf("a claim of 200 took %d timers", len(due))
	}
}
