package live_test

import (
	"context"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/live"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func insert(t *testing.T, st *store.Store, ws store.Workspace, typ, user string, mids ...string) {
	t.Helper()
	var evs []store.NewEvent
	for _, m := range mids {
		evs = append(evs, store.NewEvent{WorkspaceID: ws.ID, MessageID: m, Type: typ, UserID: user, ReceivedAt: time.Now(),
			Source: "webhook", Raw: []byte(`{"messageId":"` + m + `"}`)})
	}
	if _, err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// Live shows events committed after it started, filtered, and resumes from
// the cursor a reconnecting browser sends back.
func TestFollowFiltersAndResumes(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ws, _ := st.DefaultWorkspace(ctx)
		insert(t, st, ws, "track", "u1", "old")
		got := make(chan live.Batch, 100)
		fctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			done <- live.Follow(fctx, st, ws.ID, live.Filter{Type: "track", User: "u1"}, nil,
				live.Options{Poll: 20 * time.Millisecond, Started: func(store.FeedCursor) { close(started) }},
				func(b live.Batch) error { got <- b; return nil })
		}()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("Follow returned before it started: %v", err)
		}
		insert(t, st, ws, "track", "u1", "a")
		insert(t, st, ws, "identify", "u1", "not-type")
		insert(t, st, ws, "track", "u2", "not-user")
		insert(t, st, ws, "track", "u1", "b")
		var seen []string
		var last store.FeedCursor
		for len(seen) < 2 {
			select {
			case b := <-got:
				for _, e := range b.Events {
					seen = append(seen, e.MessageID)
				}
				last = b.Cursor
			case <-ctx.Done():
				t.Fatalf("live saw %v, want [a b]", seen)
			}
		}
		stop()
		<-done
		if len(seen) != 2 || seen[0] != "a" || seen[1] != "b" {
			t.Fatalf("live showed %v, want [a b] (old events and other types/users filtered out)", seen)
		}
		// A reconnect with the last id gets what came meanwhile, nothing twice.
		cur, err := live.ParseCursor(live.EncodeCursor(last))
		if err != nil || cur != last {
			t.Fatalf("cursor round trip: %v %v", cur, err)
		}
		insert(t, st, ws, "track", "u1", "c")
		rctx, rstop := context.WithCancel(ctx)
		defer rstop()
		var again []string
		_ = live.Follow(rctx, st, ws.ID, live.Filter{Type: "track", User: "u1"}, &cur, live.Options{Poll: 20 * time.Millisecond},
			func(b live.Batch) error {
				for _, e := range b.Events {
					again = append(again, e.MessageID)
				}
				if len(again) >= 1 {
					rstop()
				}
				return nil
			})
		if len(again) != 1 || again[0] != "c" {
			t.Fatalf("after reconnecting: %v, want [c]", again)
		}
	})
}

// A browser far behind skips to the head instead of receiving a backlog.
func TestFollowSkipsABacklog(t *testing.T) {
	st := testdb.Open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _ := st.DefaultWorkspace(ctx)
	start, _ := st.FeedHead(ctx, ws.ID)
	var ids []string
	for i := range 30 {
		ids = append(ids, "e"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	insert(t, st, ws, "track", "u", ids...)
	var batches []live.Batch
	fctx, stop := context.WithCancel(ctx)
	_ = live.Follow(fctx, st, ws.ID, live.Filter{}, &start, live.Options{Poll: 20 * time.Millisecond, MaxBatch: 10},
		func(b live.Batch) error { batches = append(batches, b); stop(); return nil })
	if len(batches) == 0 {
		t.Fatal("no batch within 20s")
	}
	if len(batches) != 1 || batches[0].Skipped != 20 || len(batches[0].Events) != 10 || batches[0].Events[9].MessageID != ids[29] ||
		batches[0].Events[0].MessageID != ids[20] {
		t.Fatalf("far behind: %d batches, first skipped %d with %d events; want one batch of the newest 10 that skipped 20",
			len(batches), batches[0].Skipped, len(batches[0].Events))
	}
	if _, err := live.ParseCursor("12"); err == nil {
		t.Error("a cursor without a dot parsed")
	}
}
