package audiences_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
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
