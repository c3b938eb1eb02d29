package audiences_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// The whole way: a build records without emitting, an event makes a user
// enter (one Audience Entered with the contract's shape), the window's edge
// makes them leave with no event (timestamp = the edge), and a redo of the
// same batch emits nothing twice.
func TestAudienceLifecycle(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		w := newWorld(t, st, t0)
		w.send(
			body{"type": "identify", "userId": "ann", "messageId": "i1", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": "pro"}},
			body{"type": "identify", "userId": "bob", "messageId": "i2", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": "pro"}},
			body{"type": "identify", "userId": "cy", "messageId": "i3", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": "free"}},
			body{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o1", "timestamp": ts(t0.Add(-48 * time.Hour)), "properties": map[string]any{"total": 60}},
			body{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o2", "timestamp": ts(t0.Add(-24 * time.Hour)), "properties": map[string]any{"total": 70}},
			body{"type": "track", "userId": "bob", "event": "Order Completed", "messageId": "o3", "timestamp": ts(t0.Add(-24 * time.Hour)), "properties": map[string]any{"total": 80}},
			body{"type": "track", "userId": "cy", "event": "Order Completed", "messageId": "o4", "timestamp": ts(t0.Add(-1 * time.Hour)), "properties": map[string]any{"total": 90}},
			body{"type": "track", "userId": "cy", "event": "Order Completed", "messageId": "o5", "timestamp": ts(t0.Add(-2 * time.Hour)), "properties": map[string]any{"total": 90}},
			body{"type": "track", "userId": "bob", "event": "Order Completed", "messageId": "o6", "timestamp": ts(t0.Add(-3 * time.Hour)), "properties": map[string]any{"total": 10}},
		)
		w.settle()
		r := w.create(`{"key":"buyers","name":"Pro buyers","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},
			{"performed":{"event":"Order Completed","where":[{"property":"total","op":"gte","value":50}],"count":{"op":"gte","value":2},"within":"3d"}}]}}`)
		if r.Version != 1 || !r.Building() {
			t.Fatalf("created %+v, want version 1 building", r)
		}
		w.settle()
		if got := w.members("buyers"); !slices.Equal(got, []string{"u:ann"}) {
			t.Fatalf("after the build: members %v, want [u:ann]", got)
		}
		if tr := w.transitions(); len(tr) != 0 {
			t.Fatalf("the first build emitted %v", tr)
		}

		// bob's second qualifying order makes him enter, now.
		w.clock.Set(t0.Add(time.Minute))
		w.send(body{"type": "track", "userId": "bob", "event": "Order Completed", "messageId": "o7", "timestamp": ts(t0.Add(-30 * time.Hour)), "properties": map[string]any{"total": 55}})
		w.settle()
		if got := w.members("buyers"); !slices.Equal(got, []string{"u:ann", "u:bob"}) {
			t.Fatalf("after bob's late order: %v", got)
		}
		tr := w.transitions()
		if len(tr) != 1 || tr[0].Event != audiences.EventEntered || tr[0].UserID != "bob" || !tr[0].Timestamp.Equal(t0.Add(time.Minute)) ||
			tr[0].Props["audience_key"] != "buyers" || tr[0].Props["audience_name"] != "Pro buyers" || tr[0].Props["buyers"] != true {
			t.Fatalf("transitions %+v", tr)
		}
		if tr[0].MessageID != audiences.MessageID("buyers", 1, "u:bob", 1) {
			t.Fatalf("messageId %s is not derived from (audience, version, profile, transition)", tr[0].MessageID)
		}

		// ann's older order leaves the 3-day window at t0-48h+72h: she exits then, with no event.
		edge := t0.Add(24*time.Hour + time.Millisecond)
		w.clock.Set(edge.Add(-2 * time.Millisecond))
		w.settle()
		if got := w.members("buyers"); !slices.Equal(got, []string{"u:ann", "u:bob"}) {
			t.Fatalf("before the edge: %v", got)
		}
		w.clock.Set(edge.Add(500 * time.Millisecond))
		w.settle()
		if got := w.members("buyers"); !slices.Equal(got, []string{"u:bob"}) {
			t.Fatalf("after the edge: %v", got)
		}
		tr = w.transitions()
		if len(tr) != 2 || tr[1].Event != audiences.EventExited || tr[1].UserID != "ann" || !tr[1].Timestamp.Equal(edge) || tr[1].Props["buyers"] != false {
			t.Fatalf("time-driven exit: %+v", tr)
		}
		hist, err := st.AudienceHistoryPage(context.Background(), w.ws, "buyers", "u:ann", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != 2 || hist[0].Entered || hist[0].Cause != "time" || hist[1].Cause != "build" {
			t.Fatalf("ann's history %+v", hist)
		}
		// Retention: transitions recorded before a cutoff go, later ones stay.
		if n, err := st.DeleteAudienceHistoryBefore(context.Background(), edge, 100); err != nil || n != 2 {
			t.Fatalf("history deleted before the edge: %d %v, want 2", n, err)
		}
		if left, _ := st.AudienceHistoryPage(context.Background(), w.ws, "buyers", "", 0, 10); len(left) != 1 || left[0].Cause != "time" {
			t.Fatalf("history left %+v", left)
		}
	})
}

// A change of definition builds the new version while the old one answers;
// references order evaluation; cycles and missing keys are refused.
func TestAudienceEditsAndReferences(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, st, t0)
		for _, u := range []string{"a", "b", "c", "d", "e"} {
			plan := "free"
			if u < "c" {
				plan = "pro"
			}
			w.send(body{"type": "identify", "userId": u, "messageId": "i" + u, "timestamp": ts(t0), "traits": map[string]any{"plan": plan, "age": len(u) * 10}})
		}
		w.settle()
		w.create(`{"key":"pro","name":"Pro","condition":{"trait":"plan","op":"eq","value":"pro"}}`)
		w.create(`{"key":"not_pro","name":"Not pro","condition":{"not":{"audience":"pro"}}}`)
		var e *audiences.Error
		if _, err := w.eng.Update(ctx, w.ws, "pro", []byte(`{"key":"pro","name":"Pro","condition":{"audience":"not_pro"}}`)); !errors.As(err, &e) {
			t.Fatalf("a cycle was saved: %v", err)
		}
		if _, err := w.eng.Create(ctx, w.ws, []byte(`{"key":"x","name":"X","condition":{"audience":"nope"}}`)); !errors.As(err, &e) || e.Path != "condition.audience" {
			t.Fatalf("a missing reference: %v", err)
		}
		if _, err := w.eng.Create(ctx, w.ws, []byte(`{"key":"pro","name":"Again","condition":{"audience":"not_pro"}}`)); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("a second pro: %v", err)
		}
		if err := w.eng.Delete(ctx, w.ws, "pro"); !errors.As(err, &e) {
			t.Fatalf("deleting a referenced audience: %v", err)
		}
		w.settle()
		if got := w.members("not_pro"); !slices.Equal(got, []string{"u:c", "u:d", "u:e"}) {
			t.Fatalf("not_pro = %v", got)
		}
		// Edit: version 2 is built while version 1 answers.
		r, err := w.eng.Update(ctx, w.ws, "pro", []byte(`{"key":"pro","name":"Pro","condition":{"trait":"plan","op":"in","value":["pro","free"]}}`))
		if err != nil || r.Version != 2 || r.CurrentVersion != 1 {
			t.Fatalf("update: %+v %v", r, err)
		}
		if got := w.members("pro"); !slices.Equal(got, []string{"u:a", "u:b"}) {
			t.Fatalf("during the build: %v", got)
		}
		w.settle()
		if got := w.members("pro"); len(got) != 5 {
			t.Fatalf("after the build: %v", got)
		}
		if got := w.members("not_pro"); len(got) != 0 {
			t.Fatalf("not_pro after pro's new version: %v", got)
		}
		// not_pro's members left because of pro's swap? Those exits are
		// live changes of a current version... they happen at the next
		// evaluation of each profile; the emitted ones must be exits.
		for _, tr := range w.transitions() {
			if tr.Event != audiences.EventExited {
				t.Fatalf("unexpected %+v", tr)
			}
		}
		if err := w.eng.Delete(ctx, w.ws, "not_pro"); err != nil {
			t.Fatal(err)
		}
		if err := w.eng.Delete(ctx, w.ws, "pro"); err != nil {
			t.Fatal(err)
		}
		if rows, _ := st.Audiences(ctx, w.ws); len(rows) != 0 {
			t.Fatalf("left %v", rows)
		}
	})
}

// A merge evaluates the surviving profile once (with both profiles'
// events) and the absorbed one leaves without a message of its own;
// erasure removes every trace; suppressed ids never enter.
func TestAudienceMergeAndErasure(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, st, t0)
		w.create(`{"key":"two_orders","name":"Two orders","includeAnonymous":true,"condition":{"performed":{"event":"Order Completed","count":{"op":"gte","value":2}}}}`)
		w.create(`{"key":"one_order","name":"One order","includeAnonymous":true,"condition":{"performed":{"event":"Order Completed"}}}`)
		w.settle()
		w.send(
			body{"type": "identify", "anonymousId": "anon-1", "traits": map[string]any{"plan": "x"}, "messageId": "t-old", "timestamp": ts(t0)},
			body{"type": "track", "anonymousId": "anon-1", "event": "Order Completed", "messageId": "o1", "timestamp": ts(t0)},
			body{"type": "track", "userId": "dee", "event": "Order Completed", "messageId": "o2", "timestamp": ts(t0)},
		)
		w.settle()
		if got := w.members("one_order"); !slices.Equal(got, []string{"a:anon-1", "u:dee"}) {
			t.Fatalf("one_order %v", got)
		}
		before := len(w.transitions())
		w.send(body{"type": "alias", "userId": "dee", "previousId": "anon-1", "messageId": "al", "timestamp": ts(t0)})
		w.settle()
		if got := w.members("two_orders"); !slices.Equal(got, []string{"u:dee"}) {
			t.Fatalf("after the merge two_orders = %v", got)
		}
		if got := w.members("one_order"); !slices.Equal(got, []string{"u:dee"}) {
			t.Fatalf("after the merge one_order = %v", got)
		}
		tr := w.transitions()[before:]
		if len(tr) != 1 || tr[0].UserID != "dee" || tr[0].Event != audiences.EventEntered || tr[0].Props["two_orders"] != true {
			t.Fatalf("merge transitions %+v: want only dee entering two_orders", tr)
		}
		hist, err := st.AudienceHistoryPage(ctx, w.ws, "one_order", "a:anon-1", 0, 10)
		if err != nil || len(hist) != 2 || hist[0].Cause != "merged" || hist[0].Entered {
			t.Fatalf("absorbed profile's history %+v %v", hist, err)
		}
		// The survivor's entry names the alias that merged the two.
		if hist, err := st.AudienceHistoryPage(ctx, w.ws, "two_orders", "u:dee", 0, 10); err != nil || len(hist) != 1 || hist[0].Cause != "al" {
			t.Fatalf("survivor's history %+v %v: want its entry caused by the alias", hist, err)
		}

		supp := profiles.NewSuppressions(st)
		if _, err := profiles.Erase(ctx, st, w.ws, profiles.EraseRequest{UserID: "dee", Suppress: true, RequestedBy: "test"}, supp, profiles.Options{}); err != nil {
			t.Fatal(err)
		}
		if got := w.members("two_orders"); len(got) != 0 {
			t.Fatalf("erased user still a member: %v", got)
		}
		for _, key := range []string{"one_order", "two_orders"} {
			if h, _ := st.AudienceHistoryPage(ctx, w.ws, key, "", 0, 100); len(h) != 0 {
				t.Fatalf("history of %s keeps the erased user: %+v", key, h)
			}
		}
		if tr := w.transitions(); len(tr) != 0 {
			t.Fatalf("transition events of the erased user remain: %+v", tr)
		}
		// A suppressed id's events are dropped before profiles: it never enters.
		w.prof = profiles.NewFollower(st, profiles.Options{Batch: 7, Suppressions: supp})
		w.send(body{"type": "track", "userId": "dee", "event": "Order Completed", "messageId": "o9", "timestamp": ts(t0)})
		w.settle()
		if got := w.members("one_order"); len(got) != 0 {
			t.Fatalf("a suppressed user entered: %v", got)
		}
	})
}

// emitOnBuild: the first build emits an Entered for every member it finds;
// a new version emits the differences (entries and exits) at its swap.
func TestAudienceEmitOnBuild(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, st, t0)
		w.send(
			body{"type": "identify", "userId": "a", "messageId": "ia", "timestamp": ts(t0), "traits": map[string]any{"age": 20}},
			body{"type": "identify", "userId": "b", "messageId": "ib", "timestamp": ts(t0), "traits": map[string]any{"age": 40}},
		)
		w.settle()
		w.create(`{"key":"young","name":"Young","emitOnBuild":true,"condition":{"trait":"age","op":"lt","value":30}}`)
		w.settle()
		tr := w.transitions()
		if len(tr) != 1 || tr[0].UserID != "a" || tr[0].Event != audiences.EventEntered {
			t.Fatalf("first build with emitOnBuild: %+v", tr)
		}
		if _, err := w.eng.Update(ctx, w.ws, "young", []byte(`{"key":"young","name":"Young","emitOnBuild":true,"condition":{"trait":"age","op":"gt","value":30}}`)); err != nil {
			t.Fatal(err)
		}
		w.settle()
		tr = w.transitions()[1:]
		got := map[string]string{}
		for _, x := range tr {
			got[x.UserID] = x.Event
		}
		if len(tr) != 2 || got["a"] != audiences.EventExited || got["b"] != audiences.EventEntered {
			t.Fatalf("new version's differences: %+v", tr)
		}
		if m := w.members("young"); !slices.Equal(m, []string{"u:b"}) {
			t.Fatalf("members %v", m)
		}
	})
}

// Under a not, a window's edge makes a user enter with no event: "no order
// in the last hour" after the hour has passed, and a trait's within ages
// out the same way; both through the durable timers.
func TestAudienceEnterAtTheEdge(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		w := newWorld(t, st, t0)
		w.create(`{"key":"lapsed","name":"Lapsed","condition":{"all":[{"trait":"plan","op":"exists"},{"not":{"performed":{"event":"Order Completed","within":"1h"}}}]}}`)
		w.create(`{"key":"fresh","name":"Fresh signup","condition":{"trait":"signed_up_at","op":"within","value":"2h"}}`)
		w.settle()
		w.send(
			body{"type": "identify", "userId": "eve", "messageId": "i1", "timestamp": ts(t0), "traits": map[string]any{"plan": "pro", "signed_up_at": ts(t0.Add(-time.Hour))}},
			body{"type": "track", "userId": "eve", "event": "Order Completed", "messageId": "o1", "timestamp": ts(t0.Add(-30 * time.Minute))},
		)
		w.settle()
		if got := w.members("lapsed"); len(got) != 0 {
			t.Fatalf("lapsed right after an order: %v", got)
		}
		if got := w.members("fresh"); !slices.Equal(got, []string{"u:eve"}) {
			t.Fatalf("fresh: %v", got)
		}
		w.clock.Set(t0.Add(31 * time.Minute)) // the order is 61 minutes old
		w.settle()
		if got := w.members("lapsed"); !slices.Equal(got, []string{"u:eve"}) {
			t.Fatalf("after the order left the window, lapsed = %v", got)
		}
		w.clock.Set(t0.Add(61 * time.Minute)) // signed up 2 h 1 min ago
		w.settle()
		if got := w.members("fresh"); len(got) != 0 {
			t.Fatalf("fresh after 2 h: %v", got)
		}
		var entered, exited bool
		for _, tr := range w.transitions() {
			entered = entered || tr.Event == audiences.EventEntered && tr.Props["lapsed"] == true && tr.Timestamp.Equal(t0.Add(30*time.Minute+time.Millisecond))
			exited = exited || tr.Event == audiences.EventExited && tr.Props["fresh"] == false
		}
		if !entered || !exited {
			t.Fatalf("time-driven transitions %+v", w.transitions())
		}
	})
}
