package audiences_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// A preview narrowed by the database (profiles with a state of a built
// leaf in its window, profiles with a string trait value) answers what the
// built audience of the same definition holds: every candidate is still
// evaluated, and no member is left out of the candidates (a number trait
// is not "1" the string; an identity-less merge of two ids counts both).
func TestPreviewAnswersAsTheBuild(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		w := newWorld(t, st, t0)
		w.send(
			body{"type": "identify", "userId": "ann", "anonymousId": "a-ann", "messageId": "i1", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": "pro"}},
			body{"type": "identify", "userId": "bob", "messageId": "i2", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": "pro"}},
			body{"type": "identify", "userId": "cy", "messageId": "i3", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": "free"}},
			body{"type": "identify", "userId": "dee", "messageId": "i4", "timestamp": ts(t0.Add(-time.Hour)), "traits": map[string]any{"plan": 1}},
			// ann: one order as her anonymous id, one as herself: two in all.
			body{"type": "track", "anonymousId": "a-ann", "event": "Order Completed", "messageId": "o1", "timestamp": ts(t0.Add(-48 * time.Hour))},
			body{"type": "track", "userId": "ann", "event": "Order Completed", "messageId": "o2", "timestamp": ts(t0.Add(-24 * time.Hour))},
			body{"type": "track", "userId": "bob", "event": "Order Completed", "messageId": "o3", "timestamp": ts(t0.Add(-40 * 24 * time.Hour))},
			body{"type": "track", "userId": "cy", "event": "Order Completed", "messageId": "o4", "timestamp": ts(t0.Add(-1 * time.Hour))},
			body{"type": "track", "userId": "dee", "event": "Order Completed", "messageId": "o5", "timestamp": ts(t0.Add(-1 * time.Hour))},
		)
		w.settle()
		defs := map[string]string{
			"one":   `{"key":"one","name":"One","condition":{"performed":{"event":"Order Completed","within":"30d"}}}`,
			"two":   `{"key":"two","name":"Two","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},{"performed":{"event":"Order Completed","count":{"op":"gte","value":2},"within":"30d"}}]}}`,
			"pro":   `{"key":"pro","name":"Pro","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},{"performed":{"event":"Order Completed","within":"30d"}}]}}`,
			"num":   `{"key":"num","name":"Num","condition":{"trait":"plan","op":"eq","value":"1"}}`,
			"never": `{"key":"never","name":"Never","condition":{"not":{"performed":{"event":"Order Completed","within":"30d"}}}}`,
			// Counts summed over a profile's identities: ann's two orders.
			"ever2": `{"key":"ever2","name":"Ever2","condition":{"performed":{"event":"Order Completed","count":{"op":"gt","value":1}}}}`,
			"eq2":   `{"key":"eq2","name":"Eq2","condition":{"performed":{"event":"Order Completed","count":{"op":"eq","value":2},"within":"30d"}}}`,
		}
		// Before any audience exists no leaf is built: the preview counts
		// the stored events itself (by profile in PostgreSQL).
		fresh := map[string]audiences.PreviewResult{}
		for key, def := range defs {
			p, err := w.eng.Preview(context.Background(), w.ws, []byte(def))
			if err != nil {
				t.Fatal(err)
			}
			fresh[key] = p
		}
		for _, def := range defs {
			w.create(def)
		}
		w.settle()
		for key, def := range defs {
			p, err := w.eng.Preview(context.Background(), w.ws, []byte(def))
			if err != nil {
				t.Fatal(err)
			}
			built := w.members(key)
			if p.Count != int64(len(built)) || !slices.Equal(p.Sample, built) {
				t.Errorf("%s: preview %d %v, built %v", key, p.Count, p.Sample, built)
			}
			if f := fresh[key]; f.Count != int64(len(built)) || !slices.Equal(f.Sample, built) {
				t.Errorf("%s: preview before the build %d %v, built %v", key, f.Count, f.Sample, built)
			}
		}
		for _, key := range []string{"two", "ever2", "eq2"} {
			if got := w.members(key); !slices.Equal(got, []string{"u:ann"}) {
				t.Errorf("%s: %v, want [u:ann]", key, got)
			}
		}
		// Tweaks of built leaves: a shorter window or a count the built
		// states keep enough times for is read from them; a longer window
		// or a larger count is not (it is counted from the events).
		// Either way the preview answers what building it gives.
		tweaks := map[string]string{
			"short":  `{"key":"short","name":"Short","condition":{"performed":{"event":"Order Completed","within":"36h"}}}`,
			"short2": `{"key":"short2","name":"Short2","condition":{"performed":{"event":"Order Completed","count":{"op":"gte","value":2},"within":"3d"}}}`,
			"ever1":  `{"key":"ever1","name":"Ever1","condition":{"performed":{"event":"Order Completed","count":{"op":"eq","value":1}}}}`,
			"long":   `{"key":"long","name":"Long","condition":{"performed":{"event":"Order Completed","within":"60d"}}}`,
			"three":  `{"key":"three","name":"Three","condition":{"performed":{"event":"Order Completed","count":{"op":"lt","value":3},"within":"30d"}}}`,
		}
		previews := map[string]audiences.PreviewResult{}
		for key, def := range tweaks {
			p, err := w.eng.Preview(context.Background(), w.ws, []byte(def))
			if err != nil {
				t.Fatal(err)
			}
			previews[key] = p
			w.create(def)
		}
		w.settle()
		for key, p := range previews {
			if built := w.members(key); p.Count != int64(len(built)) || !slices.Equal(p.Sample, built) {
				t.Errorf("%s: preview %d %v, built %v", key, p.Count, p.Sample, built)
			}
		}
	})
}

// Profile keys of any shape (quotes, backslashes, commas, braces, spaces,
// unicode: ids are the sender's) reach their leaf states, in the engine
// and in a preview.
func TestOddIDsReachTheirStates(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		w := newWorld(t, st, t0)
		ids := []string{`a"b`, `c\d`, `e,f`, `{g}`, `h i`, `x'y`, `é😀`, `j\"k`}
		for i, id := range ids {
			w.send(body{"type": "track", "userId": id, "event": "Order Completed", "messageId": "o" + string(rune('a'+i)), "timestamp": ts(t0.Add(-time.Hour))})
		}
		w.settle()
		def := `{"key":"odd","name":"Odd","condition":{"performed":{"event":"Order Completed","within":"1d"}}}`
		w.create(def)
		w.settle()
		var want []string
		for _, id := range ids {
			want = append(want, "u:"+id)
		}
		slices.Sort(want)
		if got := w.members("odd"); !slices.Equal(got, want) {
			t.Errorf("members %q, want %q", got, want)
		}
		for _, d := range []string{
			strings.Replace(def, `"1d"`, `"2d"`, 1),                // counted from the events
			strings.Replace(def, `"key":"odd"`, `"key":"odd3"`, 1), // read from the built states
		} {
			p, err := w.eng.Preview(context.Background(), w.ws, []byte(d))
			if err != nil || p.Count != int64(len(ids)) {
				t.Errorf("preview of %s: %d (%v), want %d", d, p.Count, err, len(ids))
			}
		}
		// A later event of each reaches the same state: two in the window.
		for i, id := range ids {
			w.send(body{"type": "track", "userId": id, "event": "Order Completed", "messageId": "p" + string(rune('a'+i)), "timestamp": ts(t0.Add(-time.Minute))})
		}
		w.settle()
		p, err := w.eng.Preview(context.Background(), w.ws, []byte(`{"key":"odd2","name":"Odd2","condition":{"performed":{"event":"Order Completed","count":{"op":"gte","value":2},"within":"1d"}}}`))
		if err != nil || p.Count != int64(len(ids)) {
			t.Errorf("preview of two orders %d (%v), want %d", p.Count, err, len(ids))
		}
	})
}
