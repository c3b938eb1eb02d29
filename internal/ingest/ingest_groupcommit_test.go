package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// gatedStore is the real store behind a gate the test controls, to hold a
// commit open while requests pile up behind it.
type gatedStore struct {
	*store.Store
	gate    chan struct{}
	entered chan struct{} // optional: signalled when a commit reaches the gate
}

func (g *gatedStore) InsertEvents(ctx context.Context, ev []store.NewEvent) ([]bool, error) {
	if g.entered != nil {
		select {
		case g.entered <- struct{}{}:
		default:
		}
	}
	if g.gate != nil {
		select {
		case <-g.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Store.InsertEvents(ctx, ev)
}

type recorder struct {
	mu       sync.Mutex
	requests []int
}

func (r *recorder) Committed(events, requests int, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, requests)
}

func event(st *store.Store, t *testing.T, mid string) store.NewEvent {
	t.Helper()
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return store.NewEvent{WorkspaceID: ws.ID, MessageID: mid, Type: "track", Event: "E", UserID: "u",
		ReceivedAt: time.Now(), Source: "webhook", Raw: []byte(`{"type":"track"}`)}
}

func TestGroupCommitGathersConcurrentRequests(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		gate := make(chan struct{})
		rec := &recorder{}
		in := ingest.New(&gatedStore{Store: st, gate: gate}, ingest.Options{Writers: 1, Timeout: 5 * time.Second, Observer: rec})
		defer in.Close(context.Background())
		const n = 50
		var wg sync.WaitGroup
		var accepted atomic.Int64
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, fmt.Sprintf("g-%d", i))})
				if err != nil {
					t.Errorf("submit %d: %v", i, err)
				}
				accepted.Add(int64(res.Accepted))
			}()
		}
		// Let the first commit take the writer and the rest queue behind it.
		time.Sleep(300 * time.Millisecond)
		if d := in.QueueDepth(); d == 0 {
			t.Fatal("nothing queued behind the held commit")
		}
		close(gate)
		wg.Wait()
		if accepted.Load() != n {
			t.Fatalf("accepted %d, want %d", accepted.Load(), n)
		}
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.requests) != 2 || rec.requests[0]+rec.requests[1] != n {
			t.Fatalf("requests per commit = %v, want two commits for %d requests: queued requests must share one commit", rec.requests, n)
		}
	})
}

func TestOverloadAndTimeoutAnswerTryAgain(t *testing.T) {
	st := testdb.Open(t)
	gate := make(chan struct{})
	in := ingest.New(&gatedStore{Store: st, gate: gate}, ingest.Options{Writers: 1, QueueRequests: 2, Timeout: 300 * time.Millisecond})
	defer in.Close(context.Background())

	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			_, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, fmt.Sprintf("o-%d", i))})
			errs <- err
		}()
		time.Sleep(20 * time.Millisecond)
	}
	var overloaded, unavailable int
	for range 4 {
		switch err := <-errs; {
		case errors.Is(err, ingest.ErrOverloaded):
			overloaded++
		case errors.Is(err, ingest.ErrUnavailable):
			unavailable++
		default:
			t.Errorf("unexpected answer %v while the database is stuck", err)
		}
	}
	if overloaded == 0 || unavailable == 0 {
		t.Fatalf("overloaded=%d unavailable=%d: want fast refusals from the bounded queue and timeouts for the queued", overloaded, unavailable)
	}
	close(gate)
}

func TestCloseCommitsWhatIsQueued(t *testing.T) {
	st := testdb.Open(t)
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	in := ingest.New(&gatedStore{Store: st, gate: gate, entered: entered}, ingest.Options{Writers: 1, Timeout: 5 * time.Second})
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, fmt.Sprintf("c-%d", i))}); err != nil {
				t.Errorf("queued before close, must be committed: %v", err)
			}
		}()
		if i == 0 {
			// Hold the writer in the first commit, so the other nine queue
			// behind it instead of joining its group.
			<-entered
		}
	}
	for in.QueueDepth() < 9 {
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan error)
	go func() { closed <- in.Close(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	if _, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, "late")}); !errors.Is(err, ingest.ErrClosed) {
		t.Errorf("submit after close: %v, want ErrClosed", err)
	}
	close(gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	ws, _ := st.DefaultWorkspace(context.Background())
	if n, _ := st.CountEvents(context.Background(), ws.ID); n != 10 {
		t.Fatalf("stored %d, want 10", n)
	}
}
