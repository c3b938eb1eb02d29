package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// The audience follower reads the whole JSON of the events a where clause
// looks at, and of no other event; UpTo stops the read at a position.
func TestReadFeedForReadsOnlyNamedEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		def, _ := twoWorkspaces(t, st)
		head, err := st.FeedHead(ctx, def.ID)
		if err != nil {
			t.Fatal(err)
		}
		a := newEvent(def.ID, "a")
		a.Raw = []byte(`{"type":"track","event":"E","properties":{"n":1.50,"s":"é \"q\""}}`)
		b := newEvent(def.ID, "b")
		b.Event, b.Raw = "F", []byte(`{"type":"track","event":"F","properties":{"n":2}}`)
		c := newEvent(def.ID, "c")
		c.Type, c.Event, c.Raw = "page", "", []byte(`{"type":"page","properties":"not an object"}`)
		if _, err := st.InsertEvents(ctx, []store.NewEvent{a, b, c}); err != nil {
			t.Fatal(err)
		}
		need := store.FeedNeed{Names: []string{"E"}, Types: []string{"page"}}
		got, err := st.ReadFeedFor(ctx, def.ID, head, 10, need)
		if err != nil || len(got) != 3 {
			t.Fatalf("read %d events: %v", len(got), err)
		}
		for i, want := range []*store.NewEvent{&a, nil, &c} {
			switch {
			case want == nil && len(got[i].Raw) != 0:
				t.Errorf("an event no where clause reads came with %s", got[i].Raw)
			case want != nil && !jsonEqual(got[i].Raw, want.Raw):
				t.Errorf("%s came with %s, want %s", got[i].MessageID, got[i].Raw, want.Raw)
			}
		}
		need.UpTo = &got[1].Cursor
		upTo, err := st.ReadFeedFor(ctx, def.ID, head, 10, need)
		if err != nil || len(upTo) != 2 || upTo[1].MessageID != "b" {
			t.Errorf("read up to b: %d events (%v)", len(upTo), err)
		}
	})
}

// jsonEqual compares two JSON texts by value (PostgreSQL's json keeps the
// text, SQLite too; this only spares the test from caring).
func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}
