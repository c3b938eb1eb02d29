package journeys_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// A branch's performed condition counts what the person did under every id
// of their profile, as an audience would: here three views made while
// anonymous, on the device later identified as u1, and one signed in.
func TestBranchCountsThePersonsEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, config.FrequencyCap{})
		now := time.Now().UTC()
		var evs []store.NewEvent
		add := func(id, typ, name, user, anon string) {
			raw := fmt.Sprintf(`{"type":%q,"messageId":%q,"event":%q,"userId":%q,"anonymousId":%q,"properties":{}}`, typ, id, name, user, anon)
			evs = append(evs, store.NewEvent{WorkspaceID: f.ws.ID, MessageID: id, Type: typ, Event: name, UserID: user,
				AnonymousID: anon, Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: []byte(raw)})
		}
		for i := range 3 {
			add(fmt.Sprintf("view-anon-%d", i), "track", "Viewed", "", "device-1")
		}
		add("link", "identify", "", "u1", "device-1")
		add("view-u1", "track", "Viewed", "u1", "")
		if _, err := st.InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		if _, err := profiles.NewFollower(st, profiles.Options{}).CatchUp(ctx, f.ws.ID); err != nil {
			t.Fatal(err)
		}
		f.journey(`{"key":"b","name":"B","trigger":{"event":{"event":"Go"}},"steps":[{"id":"check","branch":{
			"if":{"performed":{"event":"Viewed","count":{"op":"gte","value":4}}},
			"then":[{"id":"yes","email":{"template":"t","group":"g"}}],
			"else":[{"id":"no","email":{"template":"receipt"}}]}}]}`)
		f.engine(journeys.Options{})
		f.event("go-1", "track", "Go", `"properties":{}`)
		eventually(t, testdb.Patience(10*time.Second), func() bool { return len(f.messages("sent")) == 1 })
		if m := f.messages("sent")[0]; m.StepID != "yes" {
			t.Fatalf("sent from step %q: the branch did not count the anonymous views of the profile (want 4 views, step yes)", m.StepID)
		}
	})
}
