package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// The audience follower reads, of the events a where clause looks at, only
// the properties it names: present ones with their JSON value (null stays
// null, objects stay whole), absent ones absent; other events come with no
// JSON at all.
func TestReadFeedForPicksProperties(t *testing.T) {
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
		a.Raw = []byte(`{"type":"track","event":"E","properties":{"n":1.50,"nul":null,"x.y":"dot","obj":{"d":[1,"two"]},"s":"é \"q\"","other":"skip"}}`)
		b := newEvent(def.ID, "b")
		b.Event, b.Raw = "F", []byte(`{"type":"track","event":"F","properties":{"n":2}}`)
		c := newEvent(def.ID, "c")
		c.Type, c.Event, c.Raw = "page", "", []byte(`{"type":"page","properties":"not an object"}`)
		if _, err := st.InsertEvents(ctx, []store.NewEvent{a, b, c}); err != nil {
			t.Fatal(err)
		}
		need := store.FeedNeed{Names: []string{"E"}, Types: []string{"page"}, Props: []string{"absent", "n", "nul", "obj", "s", "x", "x.y"}}
		got, err := st.ReadFeedFor(ctx, def.ID, head, 10, need)
		if err != nil || len(got) != 3 {
			t.Fatalf("read %d events: %v", len(got), err)
		}
		var props struct {
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(got[0].Raw, &props); err != nil {
			t.Fatalf("%s: %v", got[0].Raw, err)
		}
		want := map[string]any{"n": 1.5, "nul": nil, "x.y": "dot", "obj": map[string]any{"d": []any{1.0, "two"}}, "s": "é \"q\""}
		if !reflect.DeepEqual(props.Properties, want) {
			t.Errorf("picked %s, want %v", got[0].Raw, want)
		}
		if len(got[1].Raw) != 0 {
			t.Errorf("an event no where clause reads came with %s", got[1].Raw)
		}
		props.Properties = nil
		if err := json.Unmarshal(got[2].Raw, &props); err != nil || len(props.Properties) != 0 {
			t.Errorf("non-object properties: %s (%v)", got[2].Raw, err)
		}
	})
}
