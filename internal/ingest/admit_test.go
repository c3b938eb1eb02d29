package ingest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

func TestAdmitBoundsBytesInFlight(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	in := ingest.New(st, ingest.Options{InflightBytes: 1000})
	defer in.Close(context.Background())

	a, err := in.Admit(600)
	if err != nil {
		t.Fatalf("first request within budget: %v", err)
	}
	if _, err := in.Admit(600); !errors.Is(err, ingest.ErrOverloaded) {
		t.Fatalf("second request over budget: %v, want ErrOverloaded", err)
	}
	if in.Saturated() {
		t.Fatalf("%d of 1000 bytes in flight reported saturated", in.InflightBytes())
	}
	a()
	a() // releasing twice must not free budget twice
	if got := in.InflightBytes(); got != 0 {
		t.Fatalf("in flight after release: %d, want 0", got)
	}
	// Alone, a request larger than the whole budget is still let in:
	// otherwise it could never be stored, and Segment would retry it forever.
	big, err := in.Admit(5000)
	if err != nil {
		t.Fatalf("lone oversized request: %v", err)
	}
	if !in.Saturated() {
		t.Fatal("budget spent but not reported saturated")
	}
	if _, err := in.Admit(1); !errors.Is(err, ingest.ErrOverloaded) {
		t.Fatalf("request behind the oversized one: %v, want ErrOverloaded", err)
	}
	big()
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Admit(1); !errors.Is(err, ingest.ErrClosed) {
		t.Fatalf("admit after close: %v, want ErrClosed", err)
	}
}

// A request whose sender stopped waiting before any writer took it was
// answered 503; committing it anyway would spend the database on work nobody
// waits for while the senders still waiting time out behind it.
func TestAbandonedRequestIsNotCommitted(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	in := ingest.New(&gatedStore{Store: st, gate: gate, entered: entered}, ingest.Options{Writers: 1, Timeout: 5 * time.Second})
	defer in.Close(context.Background())

	held := make(chan error, 1)
	go func() {
		_, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, "holds-the-writer")})
		held <- err
	}()
	<-entered // the writer is now inside the held commit
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gaveUp := make(chan error, 1)
	go func() {
		_, err := in.Submit(ctx, []store.NewEvent{event(st, t, "abandoned")})
		gaveUp <- err
	}()
	// Its sender stops waiting once it is queued behind the held commit.
	testutil.Wait(t, "the request to queue", func() bool { return in.QueueDepth() == 1 })
	cancel()
	if err := <-gaveUp; !errors.Is(err, ingest.ErrUnavailable) {
		t.Fatalf("submit that gave up: %v, want ErrUnavailable", err)
	}
	close(gate)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	// One more request behind it shows the writer has moved past it.
	if _, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, "after")}); err != nil {
		t.Fatal(err)
	}
	ws, _ := st.DefaultWorkspace(context.Background())
	if _, err := st.EventByMessageID(context.Background(), ws.ID, "abandoned"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("abandoned request was committed (err %v)", err)
	}
	if n, _ := st.CountEvents(context.Background(), ws.ID); n != 2 {
		t.Fatalf("stored %d events, want 2", n)
	}
}

func TestBodyBudget(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ declared, limit, want int64 }{
		{100, 1000, 100}, {-1, 1000, 1000}, {0, 1000, 1000}, {5000, 1000, 1000}, {1000, 1000, 1000},
	} {
		if got := ingest.BodyBudget(c.declared, c.limit); got != c.want {
			t.Errorf("BodyBudget(%d, %d) = %d, want %d", c.declared, c.limit, got, c.want)
		}
	}
}

// TestReserveBodyWaitsAtMostTheTimeout: the read budget both ingest surfaces
// share makes a body wait its turn for at most the ingester's Timeout, and
// then answers ErrOverloaded (503, retry); once closed, ErrClosed.
func TestReserveBodyWaitsAtMostTheTimeout(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	in := ingest.New(st, ingest.Options{ReadBytes: 100, Timeout: 50 * time.Millisecond})
	held, err := in.ReserveBody(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.ReserveBody(context.Background(), 1); !errors.Is(err, ingest.ErrOverloaded) {
		t.Fatalf("reserve while the budget is spent = %v, want ErrOverloaded", err)
	}
	// A waiting body gets the budget as soon as it is released.
	got := make(chan error, 1)
	go func() {
		release, err := in.ReserveBody(context.Background(), 60)
		if err == nil {
			release()
		}
		got <- err
	}()
	held()
	if err := <-got; err != nil {
		t.Fatalf("reserve after release = %v", err)
	}
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := in.ReserveBody(context.Background(), 1); !errors.Is(err, ingest.ErrClosed) {
		t.Fatalf("reserve after Close = %v, want ErrClosed", err)
	}
}
