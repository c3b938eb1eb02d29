package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestSaveAndLoadDeliveries(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		other, _ := st.CreateWorkspace(ctx, "Other")
		now := time.Date(2026, 3, 4, 10, 30, 15, 0, time.UTC)

		var attempts []store.DeliveryAttempt
		for i := range 130 {
			attempts = append(attempts, store.DeliveryAttempt{WorkspaceID: def.ID, At: now.Add(time.Duration(i) * time.Second),
				Source: "webhook", Outcome: "accepted", Status: 200, Accepted: i})
		}
		long := strings.Repeat("é", 400) // 800 bytes: cut on a rune boundary
		attempts = append(attempts, store.DeliveryAttempt{WorkspaceID: other.ID, At: now, Source: "webhook",
			Outcome: "bad_signature", Reason: long, Status: 401})
		minute := now.Truncate(time.Minute)
		minutes := []store.DeliveryMinute{
			{WorkspaceID: def.ID, Minute: minute, Outcome: "accepted", Requests: 2, Accepted: 10, Duplicates: 1},
			{WorkspaceID: def.ID, Minute: minute.Add(-3 * time.Hour), Outcome: "accepted", Requests: 1, Accepted: 1},
		}
		if err := st.SaveDeliveries(ctx, "", attempts, minutes, 100, time.Time{}); err != nil {
			t.Fatal(err)
		}
		// A second flush adds to the minute and drops minutes older than 2h.
		more := []store.DeliveryMinute{
			{WorkspaceID: def.ID, Minute: minute, Outcome: "accepted", Requests: 1, Accepted: 5},
			{WorkspaceID: def.ID, Minute: minute, Outcome: "bad_body", Requests: 4},
		}
		if err := st.SaveDeliveries(ctx, "", nil, more, 100, now.Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.InsertEvents(ctx, []store.NewEvent{newEvent(def.ID, "x")}); err != nil {
			t.Fatal(err)
		}

		h, err := st.LoadDeliveries(ctx, now.Add(-24*time.Hour), 20)
		if err != nil {
			t.Fatal(err)
		}
		var mine, theirs []store.DeliveryAttempt
		for _, a := range h.Attempts {
			if a.WorkspaceID == def.ID {
				mine = append(mine, a)
			} else {
				theirs = append(theirs, a)
			}
		}
		if len(mine) != 20 || mine[0].Accepted != 129 || mine[19].Accepted != 110 || !mine[0].At.Equal(now.Add(129*time.Second)) {
			t.Fatalf("default workspace attempts: %d, first %+v", len(mine), mine[0])
		}
		if len(theirs) != 1 || theirs[0].Status != 401 || len(theirs[0].Reason) != 500 || !strings.HasPrefix(long, theirs[0].Reason) {
			t.Fatalf("other workspace attempts: %+v", theirs)
		}
		got := map[string]store.DeliveryMinute{}
		for _, m := range h.Minutes {
			got[m.Outcome+"@"+m.Minute.Format(time.RFC3339)] = m
		}
		acc := got["accepted@"+minute.Format(time.RFC3339)]
		bad := got["bad_body@"+minute.Format(time.RFC3339)]
		if len(h.Minutes) != 2 || acc.Requests != 3 || acc.Accepted != 15 || acc.Duplicates != 1 || bad.Requests != 4 {
			t.Fatalf("minutes = %+v", h.Minutes)
		}
		if _, ok := h.LastEvent[def.ID]; !ok || len(h.LastEvent) != 1 {
			t.Fatalf("last events = %v", h.LastEvent)
		}

		// Only the newest 100 attempts of a workspace are kept.
		h, err = st.LoadDeliveries(ctx, now, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, a := range h.Attempts {
			if a.WorkspaceID == def.ID {
				n++
			}
		}
		if n != 100 {
			t.Fatalf("kept %d attempts, want 100", n)
		}
	})
}

func TestSaveDeliveriesUnknownWorkspace(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		// A workspace that no longer exists must not wedge the flusher.
		ghost := uuid.New()
		err := st.SaveDeliveries(context.Background(), "",
			[]store.DeliveryAttempt{{WorkspaceID: ghost, At: time.Now(), Outcome: "accepted", Status: 200}},
			[]store.DeliveryMinute{{WorkspaceID: ghost, Minute: time.Now(), Outcome: "accepted", Requests: 1}}, 100, time.Time{})
		if err != nil {
			t.Fatal(fmt.Errorf("save for an unknown workspace: %w", err))
		}
	})
}

// TestSaveDeliveriesBatchOnce: a batch saved again under its key (a flush
// retried after a COMMIT that landed late) adds nothing.
func TestSaveDeliveriesBatchOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		now := time.Now().UTC().Truncate(time.Millisecond)
		attempts := []store.DeliveryAttempt{{WorkspaceID: def.ID, At: now, Source: "webhook", Outcome: "accepted", Status: 200, Accepted: 1}}
		minutes := []store.DeliveryMinute{{WorkspaceID: def.ID, Minute: now, Outcome: "accepted", Requests: 1, Accepted: 1}}
		for range 2 {
			if err := st.SaveDeliveries(ctx, "batch-1", attempts, minutes, 100, now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		h, err := st.LoadDeliveries(ctx, now.Add(-time.Hour), 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Attempts) != 1 || len(h.Minutes) != 1 || h.Minutes[0].Requests != 1 {
			t.Fatalf("a batch saved twice under one key counted twice: %+v", h)
		}
		// Another key is another batch.
		if err := st.SaveDeliveries(ctx, "batch-2", attempts, minutes, 100, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if h, err = st.LoadDeliveries(ctx, now.Add(-time.Hour), 20); err != nil {
			t.Fatal(err)
		}
		if len(h.Attempts) != 2 || h.Minutes[0].Requests != 2 {
			t.Fatalf("a second batch was not added: %+v", h)
		}
	})
}
