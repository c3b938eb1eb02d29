package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// A transaction that took a lower id but commits after a higher one must not
// be skipped: the feed holds back every row above a still-running
// transaction until it ends, then hands both out.
func TestFeedWaitsForLateCommits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.PostgresURL(t)
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
	head, err := st.FeedHead(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	slow, err := raw.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback() //nolint:errcheck // committed below on the happy path
	_, err = slow.ExecContext(ctx, `INSERT INTO events (workspace_id, message_id, type, received_at, raw)
		VALUES ($1, 'late', 'track', now(), '{}')`, ws.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertEvents(ctx, []store.NewEvent{newEvent(ws.ID, "early")}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ReadFeed(ctx, ws.ID, head, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("feed handed out %d events while a lower transaction was open", len(got))
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	got, err = st.ReadFeed(ctx, ws.ID, head, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].MessageID != "late" || got[1].MessageID != "early" {
		t.Fatalf("after the late commit the feed gave %+v, want late then early", feedIDs(got))
	}
}

// Many writers commit concurrently while a reader follows the feed with the
// cursor of the last event it got: at the end it has read every committed
// event exactly once.
func TestFeedConcurrentWritersNothingSkipped(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		cur, err := st.FeedHead(ctx, ws.ID)
		if err != nil {
			t.Fatal(err)
		}
		const writers, per, batch = 6, 40, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < per; i += batch {
					var evs []store.NewEvent
					for j := range batch {
						evs = append(evs, newEvent(ws.ID, fmt.Sprintf("w%d-%d", w, i+j)))
					}
					if _, err := st.InsertEvents(ctx, evs); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		seen := map[string]int{}
		finished := false
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-done:
				finished = true
			default:
			}
			got, err := st.ReadFeed(ctx, ws.ID, cur, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range got {
				seen[e.MessageID]++
				cur = e.Cursor
			}
			if finished && len(got) == 0 {
				break
			}
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != writers*per {
			t.Fatalf("read %d distinct events, want %d", len(seen), writers*per)
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("event %s read %d times", id, n)
			}
		}
	})
}

func feedIDs(evs []store.FeedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.MessageID
	}
	return out
}

// A long transaction in another database of the same server (a pg_dump,
// another application, another Inlet) must not hold this feed back.
func TestFeedIgnoresOtherDatabases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Postgres(t)
	ws, _ := st.DefaultWorkspace(ctx)
	head, err := st.FeedHead(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("pgx", testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	long, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Rollback() //nolint:errcheck // only held open
	if _, err := long.ExecContext(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertEvents(ctx, []store.NewEvent{newEvent(ws.ID, "after-long")}); err != nil {
		t.Fatal(err)
	}
	got, err := st.ReadFeed(ctx, ws.ID, head, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MessageID != "after-long" {
		t.Fatalf("feed gave %v while another database held a transaction open, want [after-long]", feedIDs(got))
	}
}
