package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func newEvent(ws uuid.UUID, mid string) store.NewEvent {
	return store.NewEvent{WorkspaceID: ws, MessageID: mid, Type: "track", Event: "E", UserID: "u",
		Timestamp: time.Date(2026, 11, 20, 9, 14, 3, 117e6, time.UTC), ReceivedAt: time.Now(),
		Source: "webhook", Raw: []byte(`{"type":"track","messageId":"` + mid + `"}`)}
}

func TestInsertEventsDedupes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, other := twoWorkspaces(t, st)
		fresh, err := st.InsertEvents(ctx, []store.NewEvent{newEvent(def.ID, "a"), newEvent(def.ID, "b")})
		if err != nil || !fresh[0] || !fresh[1] {
			t.Fatalf("first insert: %v %v", fresh, err)
		}
		// Same ids again, a repeat inside the call, and the same id in another workspace.
		fresh, err = st.InsertEvents(ctx, []store.NewEvent{
			newEvent(def.ID, "a"), newEvent(def.ID, "c"), newEvent(def.ID, "c"), newEvent(other.ID, "a"),
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []bool{false, true, false, true}
		for i := range want {
			if fresh[i] != want[i] {
				t.Fatalf("fresh = %v, want %v", fresh, want)
			}
		}
		if n, _ := st.CountEvents(ctx, def.ID); n != 3 {
			t.Fatalf("default has %d events, want 3", n)
		}
		got, err := st.EventByMessageID(ctx, def.ID, "c")
		if err != nil || got.Type != "track" || string(got.Raw) != `{"type":"track","messageId":"c"}` {
			t.Fatalf("stored row: %+v %v", got, err)
		}
	})
}

func TestInsertEventsIsAllOrNothing(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		// More than one statement's worth, with a row the database must refuse
		// (unknown workspace) at the very end.
		var evs []store.NewEvent
		for i := range 2500 {
			evs = append(evs, newEvent(def.ID, fmt.Sprintf("m-%d", i)))
		}
		evs = append(evs, newEvent(uuid.New(), "orphan"))
		if _, err := st.InsertEvents(ctx, evs); err == nil {
			t.Fatal("insert with an unknown workspace succeeded")
		}
		if n, _ := st.CountEvents(ctx, def.ID); n != 0 {
			t.Fatalf("failed insert left %d rows behind", n)
		}
		fresh, err := st.InsertEvents(ctx, evs[:2500])
		if err != nil {
			t.Fatal(err)
		}
		for i, ok := range fresh {
			if !ok {
				t.Fatalf("event %d reported duplicate", i)
			}
		}
		if n, _ := st.CountEvents(ctx, def.ID); n != 2500 {
			t.Fatalf("stored %d, want 2500", n)
		}
	})
}
