package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// BenchmarkInsertEvents measures one group commit of n ~1 KB events on
// PostgreSQL, as the ingester makes it: the per-commit cost (round trips,
// statement preparation, the fsync) and the per-row cost, reported as
// events/s. go test -run '^$' -bench InsertEvents -benchtime 3s ./internal/store
func BenchmarkInsertEvents(b *testing.B) {
	st := testdb.Postgres(b)
	ctx := context.Background()
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		b.Fatal(err)
	}
	pad := strings.Repeat("x", 850)
	for _, n := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			seq := 0
			batch := make([]store.NewEvent, n)
			for b.Loop() {
				for i := range batch {
					seq++
					mid := fmt.Sprintf("bench-%d-%d", n, seq)
					batch[i] = store.NewEvent{WorkspaceID: ws.ID, MessageID: mid, Type: "track", Event: "Load Test Event",
						UserID: "user-1", AnonymousID: "anon-1", Timestamp: time.Now(), ReceivedAt: time.Now(), Source: "webhook",
						Raw: []byte(`{"type":"track","event":"Load Test Event","messageId":"` + mid + `","properties":{"padding":"` + pad + `"}}`)}
				}
				if _, err := st.InsertEvents(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
