package profiles_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Erasing a user removes the profile, every event of every identity of it,
// keeps a record without the data, suppresses later events (acknowledged,
// not stored) until lifted, and leaves the other profiles exactly as a
// rebuild from the remaining events makes them.
func TestEraseUser(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		supp := profiles.NewSuppressions(st)
		f := profiles.NewFollower(st, profiles.Options{Suppressions: supp})
		ing := newIngester(t, st, &profiles.Gate{Suppressions: supp, AfterCommit: f.Notify})

		submit(t, ing, ws.ID, body{"type": "identify", "messageId": "e1", "userId": "u1", "anonymousId": "dev-1", "timestamp": ts("01"),
			"traits": map[string]any{"email": "ann@example.com"}})
		submit(t, ing, ws.ID, body{"type": "page", "messageId": "e2", "anonymousId": "dev-1", "name": "Home", "timestamp": ts("02")})
		submit(t, ing, ws.ID, body{"type": "track", "messageId": "e3", "userId": "old-1", "event": "Signed Up", "timestamp": ts("03")})
		submit(t, ing, ws.ID, body{"type": "alias", "messageId": "e4", "userId": "u1", "previousId": "old-1", "timestamp": ts("04")})
		// u2 used the same device later: dev-1 stays u1's, but this event is
		// u2's (it carries u2's userId) and stays when u1 is erased.
		submit(t, ing, ws.ID, body{"type": "track", "messageId": "e5", "userId": "u2", "anonymousId": "dev-1", "event": "Viewed", "timestamp": ts("05")})
		submit(t, ing, ws.ID, body{"type": "identify", "messageId": "e6", "userId": "u2", "timestamp": ts("06"), "traits": map[string]any{"plan": "pro"}})
		submit(t, ing, ws.ID, body{"type": "group", "messageId": "e7", "userId": "u1", "groupId": "acme", "timestamp": ts("07"),
			"traits": map[string]any{"contact": "ann@example.com"}})
		submit(t, ing, ws.ID, body{"type": "group", "messageId": "e8", "userId": "u2", "groupId": "acme", "timestamp": ts("06"),
			"traits": map[string]any{"contact": "bo@example.com"}})
		for i := range 30 {
			submit(t, ing, ws.ID, body{"type": "track", "messageId": fmt.Sprintf("bulk-%d", i), "userId": "u1", "event": "Viewed", "timestamp": ts("08")})
		}
		catchUp(t, f, ws.ID)
		before, _ := st.CountEvents(ctx, ws.ID)

		res, err := profiles.Erase(ctx, st, ws.ID, profiles.EraseRequest{UserID: "old-1", RequestedBy: "test", Suppress: true}, supp, profiles.Options{})
		if err != nil {
			t.Fatal(err)
		}
		// old-1 counts twice: an alias's previousId is both a former userId
		// and a possible anonymousId.
		if res.Identities != 4 || res.EventsDeleted != 35 {
			t.Errorf("erased %d identities and %d events; want 4 (u1, old-1 twice, dev-1) and 35", res.Identities, res.EventsDeleted)
		}
		after, _ := st.CountEvents(ctx, ws.ID)
		if before-after != 35 {
			t.Errorf("events: %d before, %d after", before, after)
		}
		if _, err := st.EventByMessageID(ctx, ws.ID, "e5"); err != nil {
			t.Errorf("u2's event on the shared device was erased with u1: %v", err)
		}
		for _, id := range []struct{ kind, v string }{{store.IdentityUser, "u1"}, {store.IdentityUser, "old-1"}, {store.IdentityAnon, "dev-1"}} {
			if _, err := st.ProfileByIdentity(ctx, ws.ID, id.kind, id.v); err != store.ErrNotFound {
				t.Errorf("%s %s still resolves: %v", id.kind, id.v, err)
			}
			if ok, _ := profiles.IsSuppressed(ctx, st, ws.ID, id.kind, id.v); !ok {
				t.Errorf("%s %s is not suppressed", id.kind, id.v)
			}
		}
		recs, err := st.Erasures(ctx, ws.ID, 10)
		if err != nil || len(recs) != 1 || recs[0].RequestedBy != "test" || recs[0].FinishedAt == nil || recs[0].EventsDeleted != 35 {
			t.Errorf("erasure record: %+v %v", recs, err)
		}

		// Later events of an erased id are acknowledged and dropped.
		res2, err := ing.Submit(ctx, toNew(t, ws.ID, []body{
			{"type": "track", "messageId": "late-1", "userId": "u1", "event": "Back", "timestamp": ts("09")},
			{"type": "track", "messageId": "late-2", "anonymousId": "dev-1", "event": "Back", "timestamp": ts("09")},
			{"type": "track", "messageId": "other", "userId": "u3", "event": "Hi", "timestamp": ts("09")},
		}))
		if err != nil || res2.Accepted+res2.Duplicates+res2.Suppressed != 3 {
			t.Fatalf("submit after erasure: %+v %v", res2, err)
		}
		for _, mid := range []string{"late-1", "late-2"} {
			if _, err := st.EventByMessageID(ctx, ws.ID, mid); err != store.ErrNotFound {
				t.Errorf("%s was stored for a suppressed id: %v", mid, err)
			}
		}
		if _, err := st.EventByMessageID(ctx, ws.ID, "other"); err != nil {
			t.Errorf("another user's event was not stored: %v", err)
		}
		catchUp(t, f, ws.ID)

		// The rest is what a rebuild from the remaining events gives.
		incremental := dump(t, st, ws.ID)
		if _, err := f.Rebuild(ctx, ws.ID); err != nil {
			t.Fatal(err)
		}
		sameDump(t, "after erasure", dump(t, st, ws.ID), incremental)
		g, _ := st.ProfileGroupDocs(ctx, ws.ID, []string{"acme"})
		if want := `bo@example.com`; !contains(string(g["acme"]), want) || contains(string(g["acme"]), "ann@") {
			t.Errorf("group traits after erasure: %s", g["acme"])
		}

		// Lifting lets the ids in again.
		n, err := profiles.LiftSuppression(ctx, st, ws.ID, store.IdentityUser, "u1", supp)
		if err != nil || n != 4 {
			t.Fatalf("lift: %d %v", n, err)
		}
		submit(t, ing, ws.ID, body{"type": "track", "messageId": "late-3", "userId": "u1", "event": "Back", "timestamp": ts("10")})
		if _, err := st.EventByMessageID(ctx, ws.ID, "late-3"); err != nil {
			t.Errorf("event after lifting: %v", err)
		}
	})
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
