package store_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Issue 13 item 8: event and user filters ignore case, through the lower()
// indexes; the count is exact up to its cap and says "more" past it.
func TestEventAndUserFiltersIgnoreCaseAndCount(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, other := twoWorkspaces(t, st)
		evs := seedBrowse(t, st, def.ID, "d")
		seedBrowse(t, st, other.ID, "o")
		for _, c := range []struct {
			f    store.EventFilter
			keep func(store.NewEvent) bool
		}{
			{store.EventFilter{Event: "signup"}, func(e store.NewEvent) bool { return e.Event == "Signup" }},
			{store.EventFilter{Event: "SIGNUP"}, func(e store.NewEvent) bool { return e.Event == "Signup" }},
			{store.EventFilter{User: "USER-1"}, func(e store.NewEvent) bool { return e.UserID == "user-1" || e.AnonymousID == "user-1" }},
			{store.EventFilter{User: "Anon-2", Type: "track"}, func(e store.NewEvent) bool { return e.AnonymousID == "anon-2" && e.Type == "track" }},
		} {
			c.f.WorkspaceID = def.ID
			got := ids(walk(t, st, c.f))
			slices.Sort(got)
			want := wantIDs(evs, c.keep)
			if len(want) == 0 || !slices.Equal(got, want) {
				t.Errorf("%+v: got %v, want %v", c.f, got, want)
			}
			n, more, err := st.CountMatchingEvents(ctx, c.f, 1000)
			if err != nil || more || n != len(want) {
				t.Errorf("%+v: count %d (more %v, %v), want %d", c.f, n, more, err, len(want))
			}
		}
		n, more, err := st.CountMatchingEvents(ctx, store.EventFilter{WorkspaceID: def.ID}, 50)
		if err != nil || !more || n != 50 {
			t.Errorf("capped count: %d more=%v %v, want 50 and more", n, more, err)
		}
		n, more, err = st.CountMatchingEvents(ctx, store.EventFilter{WorkspaceID: def.ID, User: "user-1"}, 3)
		if err != nil || !more || n != 3 {
			t.Errorf("capped user count: %d more=%v %v", n, more, err)
		}
	})
}

func TestCaseInsensitiveFiltersUseTheirIndexesOnSQLite(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	def, _ := st.DefaultWorkspace(context.Background())
	for _, f := range []store.EventFilter{{Event: "x"}, {User: "u"}, {Event: "x", User: "u"}} {
		f.WorkspaceID = def.ID
		for name, explain := range map[string]func() (string, error){
			"list": func() (string, error) { return st.ExplainListEvents(context.Background(), f) },
			"count": func() (string, error) {
				return st.ExplainCountMatchingEvents(context.Background(), f, store.EventCountCap)
			},
		} {
			plan, err := explain()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(plan, "SCAN events") && !strings.Contains(plan, "USING") {
				t.Errorf("%s %+v reads the whole table:\n%s", name, f, plan)
			}
			if !strings.Contains(plan, "_ci") {
				t.Errorf("%s %+v uses no lower() index:\n%s", name, f, plan)
			}
		}
	}
}
