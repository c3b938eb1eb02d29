package audiences_test

import (
	"context"
	"slices"
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
		if got := w.members("two"); !slices.Equal(got, []string{"u:ann"}) {
			t.Errorf("two: %v, want [u:ann]", got)
		}
	})
}
