package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

var queryBase = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

// seedBrowse stores 120 events in ws, three per received_at so the id
// tie-break is exercised on every page boundary, and returns them.
func seedBrowse(t *testing.T, st *store.Store, ws uuid.UUID, prefix string) []store.NewEvent {
	t.Helper()
	types := []string{"track", "identify", "page", "screen"}
	var evs []store.NewEvent
	for i := range 120 {
		e := store.NewEvent{
			WorkspaceID: ws, MessageID: fmt.Sprintf("%s-%03d", prefix, i), Type: types[i%4],
			UserID: fmt.Sprintf("user-%d", i%5), AnonymousID: fmt.Sprintf("anon-%d", i%3),
			ReceivedAt: queryBase.Add(time.Duration(i/3) * time.Second), Source: "webhook",
		}
		if e.Type == "track" {
			e.Event = "Click"
			if i%8 == 0 {
				e.Event = "Signup"
			}
		}
		if i%7 == 0 {
			e.UserID = ""
		}
		if i == 5 || i == 50 {
			e.AnonymousID = "user-1" // the user filter matches either column
			e.UserID = ""
		}
		if i == 60 {
			e.Timestamp = queryBase.Add(-time.Hour)
		}
		e.Raw = []byte(fmt.Sprintf(`{"type":%q,"messageId":%q}`, e.Type, e.MessageID))
		evs = append(evs, e)
	}
	if _, err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

// walk reads every page older-wards, then back newer-wards, checks both
// directions agree and that the order is strictly newest first.
func walk(t *testing.T, st *store.Store, f store.EventFilter) []store.ListedEvent {
	t.Helper()
	ctx := context.Background()
	var all []store.ListedEvent
	var pages [][]string
	f.Limit = 7
	for n := 0; ; n++ {
		if n > 100 {
			t.Fatal("pagination does not end")
		}
		p, err := st.ListEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) > f.Limit {
			t.Fatalf("page of %d events, limit %d", len(p.Events), f.Limit)
		}
		if (n == 0) != (p.Newer == nil) {
			t.Fatalf("page %d: Newer = %v", n, p.Newer)
		}
		all = append(all, p.Events...)
		pages = append(pages, ids(p.Events))
		if p.Older == nil {
			break
		}
		f.Before, f.After = p.Older, nil
	}
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if !a.ReceivedAt.After(b.ReceivedAt) && !(a.ReceivedAt.Equal(b.ReceivedAt) && a.ID > b.ID) {
			t.Fatalf("not newest first at %d: %v/%d then %v/%d", i, a.ReceivedAt, a.ID, b.ReceivedAt, b.ID)
		}
	}
	// Back up with the Newer links: the same pages, except that the newest
	// one is always a full page.
	for i := len(pages) - 2; i >= 1; i-- {
		first := all[0]
		for _, e := range all {
			if e.MessageID == pages[i+1][0] {
				first = e
			}
		}
		c := first.Cursor()
		f.Before, f.After = nil, &c
		p, err := st.ListEvents(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(p.Events), pages[i]) {
			t.Fatalf("newer page from %s = %v, want %v", pages[i+1][0], ids(p.Events), pages[i])
		}
	}
	return all
}

func ids(evs []store.ListedEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.MessageID
	}
	return out
}

func wantIDs(evs []store.NewEvent, keep func(store.NewEvent) bool) []string {
	var out []string
	for _, e := range evs {
		if keep(e) {
			out = append(out, e.MessageID)
		}
	}
	slices.Sort(out)
	return out
}

func TestListEventsFiltersAndPages(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		def, other := twoWorkspaces(t, st)
		evs := seedBrowse(t, st, def.ID, "d")
		seedBrowse(t, st, other.ID, "o") // same users and times: must never leak in

		from, to := queryBase.Add(10*time.Second), queryBase.Add(20*time.Second)
		cases := []struct {
			name string
			f    store.EventFilter
			keep func(store.NewEvent) bool
		}{
			{"all", store.EventFilter{}, func(store.NewEvent) bool { return true }},
			{"type", store.EventFilter{Type: "track"}, func(e store.NewEvent) bool { return e.Type == "track" }},
			{"event", store.EventFilter{Event: "Signup"}, func(e store.NewEvent) bool { return e.Event == "Signup" }},
			{"user either column", store.EventFilter{User: "user-1"}, func(e store.NewEvent) bool {
				return e.UserID == "user-1" || e.AnonymousID == "user-1"
			}},
			{"anonymous id", store.EventFilter{User: "anon-2"}, func(e store.NewEvent) bool { return e.AnonymousID == "anon-2" }},
			{"time range", store.EventFilter{From: from, To: to}, func(e store.NewEvent) bool {
				return !e.ReceivedAt.Before(from) && e.ReceivedAt.Before(to)
			}},
			{"user and type and range", store.EventFilter{User: "user-1", Type: "page", From: from}, func(e store.NewEvent) bool {
				return (e.UserID == "user-1" || e.AnonymousID == "user-1") && e.Type == "page" && !e.ReceivedAt.Before(from)
			}},
			{"nothing matches", store.EventFilter{Event: "<script>"}, func(store.NewEvent) bool { return false }},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.f.WorkspaceID = def.ID
				got := ids(walk(t, st, c.f))
				slices.Sort(got)
				want := wantIDs(evs, c.keep)
				if !slices.Equal(got, want) {
					t.Fatalf("got %d events %v\nwant %d %v", len(got), got, len(want), want)
				}
			})
		}
	})
}

func TestListEventsFieldsAndLimits(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		seedBrowse(t, st, def.ID, "d")

		p, err := st.ListEvents(ctx, store.EventFilter{WorkspaceID: def.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Events) != store.DefaultEventPage || p.Older == nil || p.Newer != nil {
			t.Fatalf("first page: %d events, older %v, newer %v", len(p.Events), p.Older, p.Newer)
		}
		top := p.Events[0] // i = 119: the last of the newest three
		if top.MessageID != "d-119" || top.Type != "screen" || top.UserID != "" /* 119 is a multiple of 7 */ || top.AnonymousID != "anon-2" ||
			top.Source != "webhook" || !top.ReceivedAt.Equal(queryBase.Add(39*time.Second)) || top.Timestamp != nil ||
			string(top.Raw) != `{"type":"screen","messageId":"d-119"}` {
			t.Fatalf("top event = %+v", top)
		}
		at20 := store.EventCursor{ReceivedAt: queryBase.Add(20 * time.Second), ID: 1 << 62}
		p, err = st.ListEvents(ctx, store.EventFilter{WorkspaceID: def.ID, Before: &at20, Limit: 3})
		if err != nil || len(p.Events) != 3 {
			t.Fatalf("page at 20s: %v %v", ids(p.Events), err)
		}
		got := ids(p.Events)
		slices.Sort(got)
		if !slices.Equal(got, []string{"d-060", "d-061", "d-062"}) {
			t.Fatalf("page at 20s = %v", got)
		}
		for _, e := range p.Events {
			if (e.MessageID == "d-060") != (e.Timestamp != nil) ||
				(e.Timestamp != nil && !e.Timestamp.Equal(queryBase.Add(-time.Hour))) {
				t.Fatalf("%s timestamp = %v", e.MessageID, e.Timestamp)
			}
		}
		p, err = st.ListEvents(ctx, store.EventFilter{WorkspaceID: def.ID, Limit: 10_000})
		if err != nil || len(p.Events) != 120 {
			t.Fatalf("limit is clamped to %d: got %d, %v", store.MaxEventPage, len(p.Events), err)
		}
		if _, err := st.ListEvents(ctx, store.EventFilter{}); err == nil {
			t.Fatal("listing without a workspace succeeded")
		}
	})
}

func TestEventCursorRoundTrip(t *testing.T) {
	t.Parallel()
	c := store.EventCursor{ReceivedAt: queryBase, ID: 42}
	got, err := store.ParseEventCursor(c.String())
	if err != nil || got.ID != 42 || !got.ReceivedAt.Equal(queryBase) {
		t.Fatalf("round trip of %s: %+v %v", c, got, err)
	}
	for _, bad := range []string{"", "x", "1-", "-1", "1-0", "1-x", "-5-3", "1-2-3", "<script>-1", "99999999999999999999-1"} {
		if _, err := store.ParseEventCursor(bad); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("ParseEventCursor(%q) = %v, want ErrBadCursor", bad, err)
		}
	}
}

// On SQLite every page query must read an index, whatever the filters: a
// plain "SCAN events" would read the whole table on every page view. (The
// PostgreSQL plans need a big table to mean anything: see
// docs/events-performance.md and cmd/explain-events.)
func TestListEventsUsesIndexesOnSQLite(t *testing.T) {
	t.Parallel()
	st := testdb.SQLite(t)
	def, _ := st.DefaultWorkspace(context.Background())
	c := store.EventCursor{ReceivedAt: queryBase, ID: 5}
	for _, f := range []store.EventFilter{{}, {Before: &c}, {After: &c}, {Type: "track"}, {Event: "x"}, {User: "u"},
		{From: queryBase, To: queryBase.Add(time.Hour)}, {User: "u", Type: "page", Before: &c}, {Type: "track", Event: "x", From: queryBase}} {
		f.WorkspaceID = def.ID
		plan, err := st.ExplainListEvents(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.HasPrefix(line, "SCAN events") {
				t.Errorf("filter %+v reads the whole table:\n%s", f, plan)
			}
		}
		if !strings.Contains(plan, "USING INDEX events_ws_") && !strings.Contains(plan, "USING COVERING INDEX events_ws_") {
			t.Errorf("filter %+v uses none of the events indexes:\n%s", f, plan)
		}
	}
}
