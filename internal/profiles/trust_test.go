package profiles_test

import (
	"context"
	"testing"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// keyOf is the profile an identity resolves to ("" when none).
func keyOf(t *testing.T, st *store.Store, ws store.Workspace, kind, id string) string {
	t.Helper()
	p, err := st.ProfileByIdentity(context.Background(), ws.ID, kind, id)
	if err == store.ErrNotFound {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return p.Key
}

// Who may merge whom: a client key's alias merges an anonymous-only profile
// into a user but never two users with events of their own; the webhook's
// does; no profile holds more userIds than MaxUserIDs; every refusal is
// recorded once, and a userId's first event undoes an earlier client merge
// of it, so arrival order does not matter.
func TestAliasTrust(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ing := newIngester(t, st, nil)
		refusedCount := map[string]int{}
		f := profiles.NewFollower(st, profiles.Options{MaxUserIDs: 3, OnMergeRefused: func(r string) { refusedCount[r]++ }})
		submit(t, ing, ws.ID,
			body{"type": "identify", "messageId": "a1", "userId": "alice", "timestamp": ts("01"), "traits": map[string]any{"email": "alice@example.com"}},
			body{"type": "identify", "messageId": "m1", "userId": "mallory", "timestamp": ts("02")},
			body{"type": "page", "messageId": "v1", "anonymousId": "visitor", "timestamp": ts("03")},
			// Forged: a client key asks to merge alice into mallory.
			body{"type": "alias", "messageId": "c-forge", "previousId": "alice", "userId": "mallory", "timestamp": ts("04")},
			// Legit from a client key: an anonymous visitor signs up.
			body{"type": "alias", "messageId": "c-signup", "previousId": "visitor", "userId": "mallory", "timestamp": ts("05")},
			// A client alias of an id no event carries yet: merges for now.
			body{"type": "alias", "messageId": "c-early", "previousId": "later", "userId": "mallory", "timestamp": ts("06")},
		)
		catchUp(t, f, ws.ID)
		if k := keyOf(t, st, ws, store.IdentityUser, "alice"); k != "u:alice" {
			t.Fatalf("a client key's alias moved alice to %q", k)
		}
		if k := keyOf(t, st, ws, store.IdentityAnon, "visitor"); k != "u:mallory" {
			t.Errorf("a client key's alias of an anonymous visitor: %q, want u:mallory", k)
		}
		if k := keyOf(t, st, ws, store.IdentityUser, "later"); k != "u:mallory" {
			t.Errorf("an id only aliased: %q, want u:mallory", k)
		}
		v, err := profiles.Find(ctx, st, ws.ID, store.IdentityUser, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.MergeRefusals) != 1 || v.MergeRefusals[0].OtherID != "mallory" || v.MergeRefusals[0].Reason != store.RefusedUntrusted {
			t.Errorf("alice's refusals: %+v", v.MergeRefusals)
		}
		v, err = profiles.Find(ctx, st, ws.ID, store.IdentityUser, "mallory")
		if err != nil {
			t.Fatal(err)
		}
		if len(v.MergeRefusals) != 1 || v.MergeRefusals[0].OtherID != "alice" {
			t.Errorf("mallory's refusals: %+v", v.MergeRefusals)
		}
		if len(v.AnonymousIDs) != 1 || v.AnonymousIDs[0] != "visitor" || len(v.Aliases) != 1 || v.Aliases[0] != "later" {
			t.Errorf("mallory lists anonymousIds %v aliases %v; want [visitor] [later]", v.AnonymousIDs, v.Aliases)
		}

		// "later" now sends an event of its own: the client merge is
		// refused from here on, as if the event had come first.
		submit(t, ing, ws.ID, body{"type": "track", "messageId": "l1", "userId": "later", "event": "X", "timestamp": ts("07")})
		catchUp(t, f, ws.ID)
		if k := keyOf(t, st, ws, store.IdentityUser, "later"); k != "u:later" {
			t.Errorf("after its own event, later is in %q", k)
		}

		// The webhook (trusted) merges users, up to MaxUserIDs = 3.
		submit(t, ing, ws.ID,
			body{"type": "track", "messageId": "b1", "userId": "bob", "event": "X", "timestamp": ts("10")},
			body{"type": "track", "messageId": "b2", "userId": "bob2", "event": "X", "timestamp": ts("10")},
			body{"type": "track", "messageId": "b3", "userId": "bob3", "event": "X", "timestamp": ts("10")},
			body{"type": "alias", "messageId": "s1", "previousId": "alice", "userId": "bob", "timestamp": ts("11")},
			body{"type": "alias", "messageId": "s2", "previousId": "bob2", "userId": "bob", "timestamp": ts("12")},
			body{"type": "alias", "messageId": "s3", "previousId": "bob3", "userId": "bob", "timestamp": ts("13")},
		)
		catchUp(t, f, ws.ID)
		if k := keyOf(t, st, ws, store.IdentityUser, "alice"); k != "u:bob" {
			t.Errorf("a signed alias: alice in %q, want u:bob", k)
		}
		if k := keyOf(t, st, ws, store.IdentityUser, "bob3"); k != "u:bob3" {
			t.Errorf("a fourth userId joined a profile capped at 3: %q", k)
		}
		d := dump(t, st, ws.ID)
		got := map[string]string{}
		for _, m := range d.Merges {
			got[m.MessageID] = m.Reason
		}
		want := map[string]string{"c-forge": store.RefusedUntrusted, "c-early": store.RefusedUntrusted, "s3": store.RefusedMaxUserIDs}
		if len(got) != len(want) {
			t.Errorf("refusals %v, want %v", got, want)
		}
		for k, r := range want {
			if got[k] != r {
				t.Errorf("refusal of %s: %q, want %q", k, got[k], r)
			}
		}
		if refusedCount[store.RefusedUntrusted] != 2 || refusedCount[store.RefusedMaxUserIDs] != 1 {
			t.Errorf("counted refusals %v", refusedCount)
		}

		// A rebuild gives the same profiles and refusals.
		if _, err := f.Rebuild(ctx, ws.ID); err != nil {
			t.Fatal(err)
		}
		sameDump(t, "rebuild", d, dump(t, st, ws.ID))
	})
}
