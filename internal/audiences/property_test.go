package audiences_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

var propertyAudiences = []string{
	`{"key":"twice","name":"Twice","condition":{"performed":{"event":"Order Completed","count":{"op":"gte","value":2},"within":"1h"}}}`,
	`{"key":"pro_twice","name":"Pro twice","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},{"audience":"twice"}]}}`,
	`{"key":"no_pages","name":"No pages","includeAnonymous":true,"condition":{"not":{"performed":{"type":"page","within":"30m"}}}}`,
	`{"key":"big_once","name":"Big once","condition":{"any":[{"trait":"age","op":"gte","value":30},
		{"performed":{"event":"Order Completed","where":[{"property":"total","op":"gte","value":50}],"count":{"op":"eq","value":1},"within":"2h"}}]}}`,
	`{"key":"not_twice","name":"Not twice","condition":{"not":{"audience":"pro_twice"}}}`,
}

// pgen makes random events over small id pools, with timestamps spread
// around the windows' edges (now is fixed: pnow).
type pgen struct {
	r *rand.Rand
	n int
}

var pnow = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

func (g *pgen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *pgen) event() body {
	g.n++
	// Timestamps on a one-minute grid over the last three hours, so events
	// fall exactly on the 30 m, 1 h and 2 h edges too.
	b := body{"messageId": fmt.Sprintf("m-%03d", g.n), "timestamp": ts(pnow.Add(-time.Duration(g.r.IntN(180)) * time.Minute))}
	ids := func() {
		switch g.r.IntN(3) {
		case 0:
			b["userId"] = g.pick("u1", "u2", "u3", "u4")
		case 1:
			b["anonymousId"] = g.pick("a1", "a2", "a3", "a4", "a5")
		default:
			b["userId"], b["anonymousId"] = g.pick("u1", "u2", "u3", "u4"), g.pick("a1", "a2", "a3", "a4", "a5")
		}
	}
	switch g.r.IntN(20) {
	case 0, 1, 2, 3:
		b["type"] = "identify"
		ids()
		b["traits"] = map[string]any{"plan": g.pick("pro", "free"), "age": g.r.IntN(50)}
	case 4, 5, 6, 7, 8, 9, 10, 11:
		b["type"] = "track"
		b["event"] = "Order Completed"
		ids()
		b["properties"] = map[string]any{"total": g.r.IntN(100)}
	case 12, 13, 14, 15, 16, 17:
		b["type"] = "page"
		b["name"] = "Home"
		ids()
	default:
		b["type"] = "alias"
		b["userId"] = g.pick("u1", "u2", "u3", "u4")
		b["previousId"] = g.pick("u1", "u2", "u3", "u4", "a1", "a2")
	}
	return b
}

func (w *world) memberships() map[string][]string {
	w.t.Helper()
	rows, err := w.st.Audiences(context.Background(), w.ws)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.Key] = w.members(r.Key)
	}
	return out
}

// Memberships do not depend on delivery order, repetition, batching, or on
// whether the audiences were defined before the events (live evaluation)
// or after (a build): each random event set is delivered in order, then
// shuffled with duplicates in random batches with the followers running in
// between, then built over afterwards; all must agree.
func TestMembershipsDoNotDependOnDeliveryOrder(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		sets := 12
		if st.Dialect() == store.Postgres {
			sets = 4
		}
		if v, err := strconv.Atoi(os.Getenv("AUDIENCES_PROPERTY_SETS")); err == nil && v > 0 {
			sets = v
		}
		ctx := context.Background()
		for set := range sets {
			seed := uint64(set) + 1
			g := &pgen{r: rand.New(rand.NewPCG(seed, 7))}
			events := make([]body, 30+g.r.IntN(40))
			for i := range events {
				events[i] = g.event()
			}
			newLive := func() *world {
				w := newWorld(t, st, pnow)
				for _, a := range propertyAudiences {
					w.create(a)
				}
				w.settle()
				return w
			}
			ref := newLive()
			ordered := append([]body(nil), events...)
			sort.SliceStable(ordered, func(i, j int) bool { return ordered[i]["timestamp"].(string) < ordered[j]["timestamp"].(string) })
			for _, e := range ordered {
				ref.send(e)
				ref.settle()
			}
			want := ref.memberships()

			r := rand.New(rand.NewPCG(seed, 99))
			run := newLive()
			delivery := append([]body(nil), events...)
			for range len(events) / 4 {
				delivery = append(delivery, events[r.IntN(len(events))])
			}
			r.Shuffle(len(delivery), func(i, j int) { delivery[i], delivery[j] = delivery[j], delivery[i] })
			for len(delivery) > 0 {
				n := min(1+r.IntN(8), len(delivery))
				run.send(delivery[:n]...)
				delivery = delivery[n:]
				if r.IntN(2) == 0 {
					if _, err := run.prof.Step(ctx, run.ws); err != nil {
						t.Fatal(err)
					}
					if _, err := run.eng.Step(ctx, run.ws); err != nil {
						t.Fatal(err)
					}
				}
			}
			run.settle()
			if got := run.memberships(); !reflect.DeepEqual(got, want) {
				t.Fatalf("set %d shuffled: memberships\n got %v\nwant %v", set, got, want)
			}

			built := newWorld(t, st, pnow)
			built.send(events...)
			built.settle()
			for _, a := range propertyAudiences {
				built.create(a)
			}
			built.settle()
			if got := built.memberships(); !reflect.DeepEqual(got, want) {
				t.Fatalf("set %d built afterwards: memberships\n got %v\nwant %v", set, got, want)
			}
		}
	})
}
