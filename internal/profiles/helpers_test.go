package profiles_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
)

// body is one event as a source would send it.
type body map[string]any

// toNew parses bodies with the real Segment parser into events for the store,
// the way the webhook does.
func toNew(t testing.TB, ws uuid.UUID, bodies []body) []store.NewEvent {
	t.Helper()
	raw, err := json.Marshal(bodies)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := segment.Parse(raw)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	out := make([]store.NewEvent, len(evs))
	now := time.Now().UTC()
	for i, e := range evs {
		out[i] = store.NewEvent{WorkspaceID: ws, MessageID: e.MessageID, Type: e.Type, Event: e.Event,
			UserID: e.UserID, AnonymousID: e.AnonymousID, GroupID: e.GroupID, PreviousID: e.PreviousID,
			Timestamp: e.Timestamp, ReceivedAt: now, Source: "webhook", Raw: e.Raw,
			// Events whose messageId starts "c-" come as from a client write
			// key: untrusted, the rest as from the signed webhook.
			Trusted: !strings.HasPrefix(e.MessageID, "c-")}
		if !out[i].Trusted {
			out[i].Source, out[i].SourceKey = "http_api", "client-key"
		}
	}
	return out
}

// submit stores bodies through the real ingester (group commit, dedupe).
func submit(t testing.TB, ing *ingest.Ingester, ws uuid.UUID, bodies ...body) {
	t.Helper()
	if _, err := ing.Submit(context.Background(), toNew(t, ws, bodies)); err != nil {
		t.Fatalf("submit: %v", err)
	}
}

func newIngester(t testing.TB, st *store.Store, g *profiles.Gate) *ingest.Ingester {
	t.Helper()
	var ins ingest.Inserter = st
	if g != nil {
		g.Inner = st
		ins = g
	}
	ing := ingest.New(ins, ingest.Options{Timeout: 10 * time.Second, Writers: 1})
	t.Cleanup(func() { _ = ing.Close(context.Background()) })
	return ing
}

func catchUp(t testing.TB, f *profiles.Follower, ws uuid.UUID) {
	t.Helper()
	if _, err := f.CatchUp(context.Background(), ws); err != nil {
		t.Fatalf("catch up: %v", err)
	}
}

func dump(t testing.TB, st *store.Store, ws uuid.UUID) store.ProfileDump {
	t.Helper()
	d, err := st.DumpProfiles(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sameDump fails with the first difference between two dumps.
func sameDump(t testing.TB, what string, want, got store.ProfileDump) {
	t.Helper()
	if reflect.DeepEqual(normal(want), normal(got)) {
		return
	}
	w, g := normal(want), normal(got)
	for _, p := range w.Profiles {
		t.Logf("want %s %d %s", p.Key, p.EventCount, p.Doc)
	}
	for _, p := range g.Profiles {
		t.Logf("got  %s %d %s", p.Key, p.EventCount, p.Doc)
	}
	for i := 0; i < max(len(w.Profiles), len(g.Profiles)); i++ {
		if i >= len(w.Profiles) || i >= len(g.Profiles) || !reflect.DeepEqual(w.Profiles[i], g.Profiles[i]) {
			t.Fatalf("%s: profiles differ at %d:\nwant %s\ngot  %s\nidentities want %s\ngot %s", what, i, at(w.Profiles, i), at(g.Profiles, i), js(w.Identities), js(g.Identities))
		}
	}
	for i := 0; i < max(len(w.Identities), len(g.Identities)); i++ {
		if i >= len(w.Identities) || i >= len(g.Identities) || !reflect.DeepEqual(w.Identities[i], g.Identities[i]) {
			t.Fatalf("%s: identities differ at %d:\nwant %s\ngot  %s", what, i, at(w.Identities, i), at(g.Identities, i))
		}
	}
	t.Fatalf("%s: dumps differ:\nwant groups %v refused %v merges %s\ngot  groups %v refused %v merges %s", what, w.Groups, w.Refused, js(w.Merges), g.Groups, g.Refused, js(g.Merges))
}

func at[T any](s []T, i int) string {
	if i >= len(s) {
		return "(none)"
	}
	if p, ok := any(s[i]).(store.ProfileRow); ok {
		doc := string(p.Doc)
		p.Doc = nil
		b, _ := json.Marshal(p)
		return string(b) + " doc " + doc
	}
	b, _ := json.Marshal(s[i])
	return string(b)
}

// normal makes times comparable across dialects (time zones, monotonic bits).
func normal(d store.ProfileDump) store.ProfileDump {
	for i := range d.Profiles {
		d.Profiles[i].FirstSeen = d.Profiles[i].FirstSeen.UTC()
		d.Profiles[i].LastSeen = d.Profiles[i].LastSeen.UTC()
	}
	for i := range d.Merges {
		d.Merges[i].TS = d.Merges[i].TS.UTC()
	}
	for i := range d.Identities {
		if d.Identities[i].ViaTS != nil {
			t := d.Identities[i].ViaTS.UTC()
			d.Identities[i].ViaTS = &t
		}
	}
	return d
}

// gen makes random event sets over small pools of ids, so links, conflicts
// (one anonymous id with two users), aliases (chains, cycles), junk ids,
// equal timestamps and null traits all happen often.
type gen struct {
	r    *rand.Rand
	base time.Time
	n    int
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

func (g *gen) user() string { return g.pick("u1", "u2", "u3", "u4", "u5", "undefined") }
func (g *gen) anon() string { return g.pick("a1", "a2", "a3", "a4", "a5", "a6", "a7", "null") }

func (g *gen) traits() map[string]any {
	t := map[string]any{}
	for range 1 + g.r.IntN(3) {
		k := g.pick("email", "plan", "name", "age", "tags")
		switch g.r.IntN(5) {
		case 0:
			t[k] = nil
		case 1:
			t[k] = g.r.IntN(50)
		case 2:
			t[k] = []any{"x", g.r.IntN(3)}
		default:
			t[k] = g.pick("a@x.io", "b@x.io", "free", "pro", "Ann", "Bo")
		}
	}
	return t
}

func (g *gen) event() body {
	g.n++
	b := body{
		"messageId": fmt.Sprintf("m-%03d", g.n),
		// Few distinct timestamps: ties are broken by messageId.
		"timestamp": g.base.Add(time.Duration(g.r.IntN(30)) * time.Second).Format(time.RFC3339Nano),
	}
	ids := func() {
		switch g.r.IntN(4) {
		case 0:
			b["userId"] = g.user()
		case 1:
			b["anonymousId"] = g.anon()
		default:
			b["userId"], b["anonymousId"] = g.user(), g.anon()
		}
	}
	switch g.r.IntN(10) {
	case 0, 1, 2:
		b["type"] = "identify"
		ids()
		b["traits"] = g.traits()
	case 3, 4, 5:
		b["type"] = "track"
		b["event"] = g.pick("Signed Up", "Order Completed", "Viewed")
		ids()
		if g.r.IntN(3) == 0 {
			b["context"] = map[string]any{"traits": g.traits()}
		}
	case 6:
		b["type"] = "page"
		b["name"] = g.pick("Home", "Pricing")
		ids()
	case 7:
		b["type"] = "group"
		b["groupId"] = g.pick("g1", "g2")
		ids()
		b["traits"] = map[string]any{"name": g.pick("Acme", "Initech"), "seats": g.r.IntN(9)}
	default:
		b["type"] = "alias"
		if g.r.IntN(2) == 0 {
			b["messageId"] = fmt.Sprintf("c-%03d", g.n) // from a client key
		}
		b["userId"] = g.user()
		if g.r.IntN(2) == 0 {
			b["previousId"] = g.user()
		} else {
			b["previousId"] = g.anon()
		}
		if g.r.IntN(2) == 0 {
			b["anonymousId"] = g.anon()
		}
	}
	return b
}

func js(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}
