package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Transaction ids are ordered as numbers, not as the text the feed reads
// them as: an event of transaction 9 comes before one of transaction 10
// although "10" < "9" as text. Ordering by the text column handed out tx 10
// first, and a reader that then moved its cursor past it skipped tx 9 for
// good; it also sorted every remaining event instead of walking the index.
// The tail (FeedTail) is the numerically last event for the same reason.
func TestFeedOrdersTransactionIDsAsNumbers(t *testing.T) {
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
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// Explicit transaction ids (the column's default is only a default):
	// "ten" is inserted first, so it also has the lower row id.
	for _, r := range []struct{ mid, tx string }{{"ten", "10"}, {"nine", "9"}} {
		if _, err := raw.ExecContext(ctx, `INSERT INTO events (workspace_id, message_id, type, received_at, raw, tx_id)
			VALUES ($1, $2, 'track', now(), '{}', $3::text::xid8)`, ws.ID.String(), r.mid, r.tx); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	cur := store.FeedCursor{}
	for range 3 {
		evs, err := st.ReadFeed(ctx, ws.ID, cur, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		got = append(got, evs[0].MessageID)
		cur = evs[0].Cursor
	}
	if len(got) != 2 || got[0] != "nine" || got[1] != "ten" {
		t.Fatalf("feed read one at a time gave %v, want [nine ten]", got)
	}
	tail, err := st.FeedTail(ctx, ws.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tail.Tx != 10 {
		t.Errorf("feed tail is in transaction %d, want 10", tail.Tx)
	}
}
