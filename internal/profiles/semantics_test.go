package profiles_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func ts(s string) string { return "2025-03-01T12:00:" + s + "Z" }

func docOf(t *testing.T, pr store.ProfileRow) profiles.Doc {
	t.Helper()
	var d profiles.Doc
	if err := json.Unmarshal(pr.Doc, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// What a profile says, checked value by value: latest timestamp wins (not
// arrival), null is kept, a shared device stays with its first user, alias
// merges, junk ids are refused and counted, identities explain themselves.
func TestProfileSemantics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := testdb.Open(t)
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ing := newIngester(t, st, nil)
	f := profiles.NewFollower(st, profiles.Options{})

	// Arrive newest first.
	submit(t, ing, ws.ID, body{"type": "identify", "messageId": "i3", "userId": "u1", "timestamp": ts("30"),
		"traits": map[string]any{"plan": "pro", "nick": nil}})
	submit(t, ing, ws.ID, body{"type": "identify", "messageId": "i2", "userId": "u1", "anonymousId": "dev-1", "timestamp": ts("20"),
		"traits": map[string]any{"plan": "free", "email": "ann@example.com", "nick": "annie"}})
	// dev-1 is later seen with u2 too (a shared device): it stays u1's.
	submit(t, ing, ws.ID, body{"type": "track", "messageId": "t1", "userId": "u2", "anonymousId": "dev-1", "event": "Viewed", "timestamp": ts("25")})
	// Visits before signing in, then an alias of an old id.
	submit(t, ing, ws.ID, body{"type": "page", "messageId": "p1", "anonymousId": "dev-1", "name": "Home", "timestamp": ts("10")})
	submit(t, ing, ws.ID, body{"type": "track", "messageId": "t0", "userId": "old-1", "event": "Signed Up", "timestamp": ts("05"),
		"context": map[string]any{"traits": map[string]any{"email": "old@example.com", "company": "Acme"}}})
	submit(t, ing, ws.ID, body{"type": "alias", "messageId": "al", "previousId": "old-1", "userId": "u1", "timestamp": ts("40")})
	submit(t, ing, ws.ID, body{"type": "group", "messageId": "g1", "userId": "u1", "groupId": "acme", "timestamp": ts("41"),
		"traits": map[string]any{"name": "Acme Inc"}})
	// Junk: refused as identities, the event still counts for its other id.
	submit(t, ing, ws.ID, body{"type": "track", "messageId": "j1", "userId": "undefined", "anonymousId": "dev-9", "event": "Viewed", "timestamp": ts("01")})
	catchUp(t, f, ws.ID)

	pr, err := st.ProfileByIdentity(ctx, ws.ID, store.IdentityUser, "u1")
	if err != nil {
		t.Fatal(err)
	}
	d := docOf(t, pr)
	want := map[string]string{"plan": `"pro"`, "nick": `null`, "email": `"ann@example.com"`, "company": `"Acme"`}
	for k, v := range want {
		if got := string(d.Traits[k].V); got != v {
			t.Errorf("trait %s = %s, want %s", k, got, v)
		}
	}
	if d.Traits["plan"].M != "i3" || d.Traits["email"].M != "i2" {
		t.Errorf("traits should say which event set them: %+v", d.Traits)
	}
	if pr.EventCount != 6 || d.Counts["identify"] != 2 || d.Counts["page"] != 1 || d.Counts["alias"] != 1 {
		t.Errorf("counts: %d events, %v", pr.EventCount, d.Counts)
	}
	if pr.FirstSeen.Format("05") != "05" || pr.LastSeen.Format("05") != "41" {
		t.Errorf("first/last seen %s %s", pr.FirstSeen, pr.LastSeen)
	}
	if _, ok := d.Groups["acme"]; !ok {
		t.Errorf("groups: %v", d.Groups)
	}
	// old-1 resolves to u1's profile now; dev-1 too.
	for _, id := range []struct{ kind, v string }{{store.IdentityUser, "old-1"}, {store.IdentityAnon, "dev-1"}} {
		p, err := st.ProfileByIdentity(ctx, ws.ID, id.kind, id.v)
		if err != nil || p.Key != "u:u1" {
			t.Errorf("%s %s → %q, %v; want u:u1", id.kind, id.v, p.Key, err)
		}
	}
	u2, err := st.ProfileByIdentity(ctx, ws.ID, store.IdentityUser, "u2")
	if err != nil || u2.EventCount != 1 {
		t.Errorf("u2 keeps its own event: %+v %v", u2, err)
	}
	ids, err := st.ProfileIdentities(ctx, ws.ID, "u:u1")
	if err != nil {
		t.Fatal(err)
	}
	vias := map[string]string{}
	for _, id := range ids {
		vias[id.Kind+":"+id.Value] = id.Via + " " + id.ViaMessage
	}
	if vias["anon:dev-1"] != "link i2" || vias["user:old-1"] != "alias al" {
		t.Errorf("identity explanations: %v", vias)
	}
	refused, err := st.RefusedIDs(ctx, ws.ID, 10)
	if err != nil || len(refused) != 1 || refused[0].Value != "undefined" || refused[0].Events != 1 {
		t.Errorf("refused ids: %+v %v", refused, err)
	}
	if _, err := st.ProfileByIdentity(ctx, ws.ID, store.IdentityUser, "undefined"); err != store.ErrNotFound {
		t.Errorf("a junk id must not be an identity: %v", err)
	}
	found, _, err := st.ListProfiles(ctx, ws.ID, store.ProfileFilter{TraitKey: "email", TraitValue: "ann@example.com"})
	if err != nil || len(found) != 1 || found[0].Key != "u:u1" {
		t.Errorf("search by email: %+v %v", found, err)
	}
	groups, err := st.ProfileGroupDocs(ctx, ws.ID, []string{"acme"})
	if err != nil || !json.Valid(groups["acme"]) || string(groups["acme"]) == "" {
		t.Errorf("group doc: %s %v", groups["acme"], err)
	}
}
