package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Pruning audience history deletes its batch within a 5 s statement
// timeout even when PostgreSQL's statistics say the table is empty (it was
// emptied and analyzed, then a burst of transitions filled it). Written as
// "id IN (SELECT … LIMIT n)" the planner ran the subquery once per row of
// the table: over 30 s for 20,000 rows.
func TestPruneHistoryOnStaleStatistics(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	ctx := context.Background()
	st, err := store.Open(ctx, url+"&statement_timeout=5000", t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	fill := `INSERT INTO audience_history (workspace_id, audience_key, version, profile_key, entered, at, cause)
		SELECT $1, 'a', 1, 'u:' || g, true, now() - interval '100 days', 'time' FROM generate_series(1, 20000) g`
	for _, q := range []string{fill, "DELETE FROM audience_history", "ANALYZE audience_history", fill} {
		var args []any
		if q == fill {
			args = []any{ws.ID}
		}
		if _, err := conn.Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	n, err := st.DeleteAudienceHistoryBefore(ctx, time.Now().AddDate(0, 0, -30), 5000)
	if err != nil || n != 5000 {
		t.Fatalf("pruned %d, %v; want 5000 within the statement timeout", n, err)
	}
}
