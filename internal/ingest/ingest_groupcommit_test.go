package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// gatedStore is the real store behind a gate the test controls, to hold a
// commit open while requests pile up behind it.
type gatedStore struct {
	*store.Store
	gate    chan struct{}
	entered chan struct{} // optional: signalled when a commit reaches the gate
	atGate  atomic.Int64  // events of the commits waiting at the gate
}

func (g *gatedStore) InsertEvents(ctx context.Context, ev []store.NewEvent) ([]bool, error) {
	if g.gate != nil {
		g.atGate.Add(int64(len(ev)))
		defer g.atGate.Add(-int64(len(ev)))
	}
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
	failed   []bool
}

func (r *recorder) Committed(events, requests int, took time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = append(r.requests, requests)
	r.failed = append(r.failed, err != nil)
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
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		g := &gatedStore{Store: st, gate: make(chan struct{})}
		rec := &recorder{}
		in := ingest.New(g, ingest.Options{Writers: 1, Timeout: 5 * time.Second, Observer: rec})
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
		// The first commit holds the writer at the gate with whatever had
		// queued when it started; every other request must queue behind it.
		testutil.Wait(t, "every request held or queued", func() bool { return g.atGate.Load()+int64(in.QueueDepth()) == n })
		if d := in.QueueDepth(); d == 0 {
			t.Fatal("nothing queued behind the held commit")
		}
		close(g.gate)
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
	t.Parallel()
	st := testdb.Open(t)
	gate, entered := make(chan struct{}), make(chan struct{}, 1)
	// The timeout is what this test proves, but it also bounds how long the
	// two queued requests stay queued: 300 ms was too short for both to be
	// queued at once on a loaded machine, so it is 2 s.
	in := ingest.New(&gatedStore{Store: st, gate: gate, entered: entered}, ingest.Options{Writers: 1, QueueRequests: 2, Timeout: 2 * time.Second})
	defer in.Close(context.Background())
	defer close(gate)

	errs := make(chan error, 3)
	submit := func(mid string) {
		_, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, mid)})
		errs <- err
	}
	go submit("o-held")
	<-entered // the writer is stuck in the held commit
	go submit("o-queued-1")
	go submit("o-queued-2")
	testutil.Wait(t, "the queue to fill", func() bool { return in.QueueDepth() == 2 })
	// The bounded queue refuses at once, without waiting for the timeout.
	if _, err := in.Submit(context.Background(), []store.NewEvent{event(st, t, "o-refused")}); !errors.Is(err, ingest.ErrOverloaded) {
		t.Fatalf("submit to a full queue: %v, want ErrOverloaded", err)
	}
	// The held and the queued ones are answered "try again" at the timeout.
	for range 3 {
		if err := <-errs; !errors.Is(err, ingest.ErrUnavailable) {
			t.Errorf("request stuck behind the database: %v, want ErrUnavailable", err)
		}
	}
}

func TestCloseCommitsWhatIsQueued(t *testing.T) {
	t.Parallel()
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
	testutil.Wait(t, "nine requests queued", func() bool { return in.QueueDepth() == 9 })
	closed := make(chan error)
	go func() { closed <- in.Close(context.Background()) }()
	// Close cannot return while the gate holds the writer; Admit shows when
	// it has stopped taking requests.
	testutil.Wait(t, "Close to stop taking requests", func() bool {
		release, err := in.Admit(0)
		if err == nil {
			release()
		}
		return errors.Is(err, ingest.ErrClosed)
	})
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

// A group the database refuses is split: each request is retried alone, so
// the good ones commit and only the request with the refused value gets
// ErrRejected (which the webhook answers 400), with none of its events
// stored, not even the valid ones beside the refused value.
func TestRefusedGroupIsSplit(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		g := &gatedStore{Store: st, gate: make(chan struct{}), entered: make(chan struct{}, 1)}
		rec := &recorder{}
		in := ingest.New(g, ingest.Options{Writers: 1, Timeout: 5 * time.Second, Observer: rec})
		defer in.Close(ctx)

		type answer struct {
			res ingest.Result
			err error
		}
		submit := func(evs ...store.NewEvent) chan answer {
			ch := make(chan answer, 1)
			go func() {
				res, err := in.Submit(ctx, evs)
				ch <- answer{res, err}
			}()
			return ch
		}
		held := submit(event(st, t, "split-held"))
		<-g.entered // the writer is held; the next three queue as one group
		orphan := event(st, t, "split-bad-2")
		orphan.WorkspaceID = uuid.New() // no such workspace: the foreign key refuses it
		good1 := submit(event(st, t, "split-good-1"), event(st, t, "split-good-1b"))
		bad := submit(event(st, t, "split-bad-1"), orphan)
		good2 := submit(event(st, t, "split-good-2"))
		testutil.Wait(t, "three requests queued", func() bool { return in.QueueDepth() == 3 })
		close(g.gate)

		if a := <-held; a.err != nil || a.res.Accepted != 1 {
			t.Fatalf("held request: %+v", a)
		}
		for name, ch := range map[string]chan answer{"first good": good1, "second good": good2} {
			a := <-ch
			if a.err != nil {
				t.Errorf("%s request shared a group with a refused one and failed: %v", name, a.err)
			}
			if a.res.Duplicates != 0 || a.res.Accepted == 0 {
				t.Errorf("%s request: %+v, want all accepted", name, a.res)
			}
		}
		a := <-bad
		if !errors.Is(a.err, ingest.ErrRejected) || errors.Is(a.err, ingest.ErrUnavailable) {
			t.Fatalf("refused request: %v, want ErrRejected (400), not a retryable error", a.err)
		}

		ws, _ := st.DefaultWorkspace(ctx)
		for _, mid := range []string{"split-held", "split-good-1", "split-good-1b", "split-good-2"} {
			if _, err := st.EventByMessageID(ctx, ws.ID, mid); err != nil {
				t.Errorf("%s not stored: %v", mid, err)
			}
		}
		if _, err := st.EventByMessageID(ctx, ws.ID, "split-bad-1"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the refused request's valid event was stored (err %v)", err)
		}
		if n, _ := st.CountEvents(ctx, ws.ID); n != 4 {
			t.Errorf("stored %d events, want 4", n)
		}
		if n, _ := st.CountEvents(ctx, orphan.WorkspaceID); n != 0 {
			t.Errorf("stored %d events of the unknown workspace", n)
		}
		// The three were tried as one group first: the split is what saved
		// the good ones, not luck in how they were grouped.
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if len(rec.requests) != 2 || rec.requests[1] != 3 || !rec.failed[1] {
			t.Fatalf("group commits (requests, failed) = %v %v, want the held one, then a refused group of 3", rec.requests, rec.failed)
		}
	})
}
