package profiles_test

import (
	"context"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// The same events give the same profiles whatever the order, the repetition
// and the batching: each random event set is stored once in order and
// followed, then several times shuffled, with duplicates, in random request
// batches, with the follower running between requests (so it sees late
// events, re-links and merges arrive after what they reorder). Every run
// must end with exactly the profiles of the in-order run, and a rebuild from
// the stored events must give them too. Each run uses its own workspace.
func TestProfilesDoNotDependOnDeliveryOrder(t *testing.T) {
	t.Parallel()
	// PostgreSQL runs fewer sets: its feed waits for every older transaction
	// in the cluster, which on a shared test server costs seconds per set.
	// The logic under test is the same Go on both stores.
	orders := 3
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		sets := 40
		if st.Dialect() == store.Postgres {
			sets = 6
		}
		if testing.Short() {
			sets = 3
		}
		if v, err := strconv.Atoi(os.Getenv("PROFILES_PROPERTY_SETS")); err == nil && v > 0 {
			sets = v
		}
		ctx := context.Background()
		ing := newIngester(t, st, nil)
		// Small caps so the caps' ordering is exercised too; half the
		// aliases come from a client key (gen.event), so trust decides too.
		f := profiles.NewFollower(st, profiles.Options{MaxAnonymousIDs: 3, MaxUserIDs: 2, Batch: 7})
		reasons := map[string]int{}
		t.Cleanup(func() {
			// The sets must exercise both refusals, or the test proves
			// nothing about their order independence (-short runs too few
			// sets to promise it).
			if !t.Failed() && !testing.Short() && (reasons[store.RefusedUntrusted] == 0 || reasons[store.RefusedMaxUserIDs] == 0) {
				t.Errorf("refusals seen over all sets: %v; want both reasons", reasons)
			}
		})
		for set := range sets {
			seed := uint64(set) + 1
			g := &gen{r: rand.New(rand.NewPCG(seed, 42)), base: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
			events := make([]body, 25+g.r.IntN(40))
			for i := range events {
				events[i] = g.event()
			}

			ref, err := st.CreateWorkspace(ctx, "ref "+strconv.Itoa(set))
			if err != nil {
				t.Fatal(err)
			}
			ordered := append([]body(nil), events...)
			sort.SliceStable(ordered, func(i, j int) bool {
				return ordered[i]["timestamp"].(string) < ordered[j]["timestamp"].(string)
			})
			for _, e := range ordered {
				submit(t, ing, ref.ID, e)
			}
			catchUp(t, f, ref.ID)
			want := dump(t, st, ref.ID)
			for _, m := range want.Merges {
				reasons[m.Reason]++
			}
			if len(want.Profiles) == 0 {
				t.Fatalf("set %d: no profiles from %d events", set, len(events))
			}

			for order := range orders {
				r := rand.New(rand.NewPCG(seed, uint64(order)+100))
				ws, err := st.CreateWorkspace(ctx, "run "+strconv.Itoa(set)+"/"+strconv.Itoa(order))
				if err != nil {
					t.Fatal(err)
				}
				delivery := append([]body(nil), events...)
				for range len(events) / 4 { // Segment's retries
					delivery = append(delivery, events[r.IntN(len(events))])
				}
				r.Shuffle(len(delivery), func(i, j int) { delivery[i], delivery[j] = delivery[j], delivery[i] })
				for len(delivery) > 0 {
					n := min(1+r.IntN(8), len(delivery))
					submit(t, ing, ws.ID, delivery[:n]...)
					delivery = delivery[n:]
					if r.IntN(2) == 0 {
						if _, err := f.Step(ctx, ws.ID); err != nil {
							t.Fatal(err)
						}
					}
				}
				catchUp(t, f, ws.ID)
				sameDump(t, "set "+strconv.Itoa(set)+" order "+strconv.Itoa(order), want, dump(t, st, ws.ID))
			}

			if _, err := f.Rebuild(ctx, ref.ID); err != nil {
				t.Fatal(err)
			}
			sameDump(t, "rebuild of set "+strconv.Itoa(set), want, dump(t, st, ref.ID))
		}
	})
}
