package retention_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/retention"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// countingStore is the real store, with every DELETE's limit and result noted.
type countingStore struct {
	*store.Store
	mu    sync.Mutex
	calls []int64
}

func (c *countingStore) DeleteEventsBefore(ctx context.Context, ws uuid.UUID, cutoff time.Time, limit int) (int64, error) {
	n, err := c.Store.DeleteEventsBefore(ctx, ws, cutoff, limit)
	c.mu.Lock()
	c.calls = append(c.calls, n)
	c.mu.Unlock()
	return n, err
}

func insert(t *testing.T, st *store.Store, ws uuid.UUID, prefix string, n int, at time.Time) {
	t.Helper()
	evs := make([]store.NewEvent, n)
	for i := range evs {
		id := fmt.Sprintf("%s-%d", prefix, i)
		evs[i] = store.NewEvent{WorkspaceID: ws, MessageID: id, Type: "track", Event: "Order Completed",
			ReceivedAt: at.Add(time.Duration(i) * time.Millisecond), Source: "webhook",
			Raw: []byte(`{"type":"track","messageId":"` + id + `"}`)}
	}
	if _, err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatalf("insert %s: %v", prefix, err)
	}
}

func count(t *testing.T, st *store.Store, ws uuid.UUID) int64 {
	t.Helper()
	n, err := st.CountEvents(context.Background(), ws)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func TestRunOnceDeletesOnlyOldEventsInSmallBatches(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
		cutoff := now.Add(-30 * 24 * time.Hour)
		def, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		other, err := st.CreateWorkspace(ctx, "Other")
		if err != nil {
			t.Fatal(err)
		}
		insert(t, st, def.ID, "old", 23, now.Add(-90*24*time.Hour))
		insert(t, st, def.ID, "edge-old", 1, cutoff.Add(-time.Second))
		insert(t, st, def.ID, "edge-new", 1, cutoff.Add(time.Second))
		insert(t, st, def.ID, "new", 6, now.Add(-time.Hour))
		insert(t, st, other.ID, "old", 7, now.Add(-31*24*time.Hour))
		insert(t, st, other.ID, "new", 2, now.Add(-29*24*time.Hour))

		var logs bytes.Buffer
		cs := &countingStore{Store: st}
		r, err := retention.New(cs, retention.Options{Days: 30, Batch: 5, Pause: time.Millisecond,
			Now: func() time.Time { return now }, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		deleted, err := r.RunOnce(ctx)
		if err != nil {
			t.Fatalf("RunOnce: %v", err)
		}
		if deleted != 24+7 {
			t.Errorf("deleted %d, want 31", deleted)
		}
		if got := count(t, st, def.ID); got != 7 {
			t.Errorf("default workspace keeps %d events, want 7 (edge-new and 6 new)", got)
		}
		if got := count(t, st, other.ID); got != 2 {
			t.Errorf("other workspace keeps %d events, want 2", got)
		}
		for _, id := range []string{"edge-new-0", "new-0", "new-5"} {
			if _, err := st.EventByMessageID(ctx, def.ID, id); err != nil {
				t.Errorf("recent event %s is gone: %v", id, err)
			}
		}
		if _, err := st.EventByMessageID(ctx, def.ID, "edge-old-0"); err == nil {
			t.Error("an event one second past the cutoff was kept")
		}
		// 24 old events in batches of 5: 5,5,5,5,4; then 7: 5,2.
		want := []int64{5, 5, 5, 5, 4, 5, 2}
		if fmt.Sprint(cs.calls) != fmt.Sprint(want) && fmt.Sprint(cs.calls) != fmt.Sprint(append(want[5:], want[:5]...)) {
			t.Errorf("DELETE batches %v, want %v in some workspace order", cs.calls, want)
		}
		if !strings.Contains(logs.String(), "deleted_events=31") {
			t.Errorf("the pass does not log what it deleted:\n%s", logs.String())
		}

		// A second pass finds nothing and deletes nothing.
		if n, err := r.RunOnce(ctx); err != nil || n != 0 {
			t.Errorf("second pass deleted %d (err %v), want 0", n, err)
		}
	})
}

func TestStartRunsInTheBackgroundAndStopsOnClose(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		insert(t, st, def.ID, "old", 12, time.Now().Add(-10*24*time.Hour))
		passes := make(chan int64, 100)
		r, err := retention.New(st, retention.Options{Days: 7, FirstDelay: -1, Interval: 20 * time.Millisecond,
			Batch: 5, Pause: time.Millisecond, Logger: slog.New(slog.DiscardHandler),
			Observer: func(n int64, err error) {
				if err != nil {
					t.Errorf("pass failed: %v", err)
				}
				passes <- n
			}})
		if err != nil {
			t.Fatal(err)
		}
		r.Start(ctx)
		select {
		case n := <-passes:
			if n != 12 {
				t.Errorf("first pass deleted %d, want 12", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no retention pass within 10s")
		}
		<-passes // the interval keeps it going
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := r.Close(cctx); err != nil {
			t.Fatalf("Close: %v", err)
		}
		// Close returned: the loop has stopped, so no pass may come after.
		drained := len(passes)
		if len(passes) != drained {
			t.Error("passes continued after Close")
		}
		if got := count(t, st, def.ID); got != 0 {
			t.Errorf("%d old events left", got)
		}
	})
}

func TestCloseInterruptsAPassBetweenBatches(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	def, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	insert(t, st, def.ID, "old", 20, time.Now().Add(-10*24*time.Hour))
	cs := &countingStore{Store: st}
	r, err := retention.New(cs, retention.Options{Days: 1, FirstDelay: -1, Batch: 5, Pause: time.Hour,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	testutil.WaitWithin(t, 10*time.Second, "the first DELETE", func() bool {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		return len(cs.calls) > 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := r.Close(ctx); err != nil {
		t.Fatalf("Close did not interrupt the hour-long pause: %v", err)
	}
	if got := count(t, st, def.ID); got != 15 {
		t.Errorf("%d events left, want 15 (one batch of 5 deleted before Close)", got)
	}
}

func TestNewRefusesNonPositiveDays(t *testing.T) {
	t.Parallel()
	for _, d := range []int{0, -1} {
		if _, err := retention.New(nil, retention.Options{Days: d}); err == nil {
			t.Errorf("Days=%d accepted", d)
		}
	}
}
