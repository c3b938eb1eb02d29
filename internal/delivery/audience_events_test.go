package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// insertFrom stores track events from a source (audiences emit theirs with
// source "audiences").
func insertFrom(t *testing.T, st *store.Store, ws store.Workspace, source string, mids ...string) {
	t.Helper()
	evs := make([]store.NewEvent, len(mids))
	for i, mid := range mids {
		evs[i] = store.NewEvent{WorkspaceID: ws.ID, MessageID: mid, Type: "track", UserID: "u1", ReceivedAt: time.Now(),
			Source: source, Raw: rawEvent(mid, "track")}
	}
	if _, err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}

// A destination may turn audience transition events off: they are passed
// over (the events after them still arrive), and on again they flow.
func TestDestinationCanSkipAudienceEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		d := createDestination(t, st, ws.ID, r.srv.URL+"/hook")
		r.secret = d.Secret
		if err := st.SetDestinationAudienceEvents(ctx, ws.ID, d.ID, true); err != nil {
			t.Fatal(err)
		}
		startManager(t, st, testOptions())
		insertFrom(t, st, ws, "audiences", "aud-1")
		insertFrom(t, st, ws, "webhook", "app-1")
		testutil.WaitWithin(t, 20*time.Second, "app-1 delivered", func() bool { return deliveredAll(r, []string{"app-1"}) })
		for _, h := range r.all() {
			if midOf(h.body) == "aud-1" {
				t.Fatal("an audience event reached a destination that turned them off")
			}
		}
		if err := st.SetDestinationAudienceEvents(ctx, ws.ID, d.ID, false); err != nil {
			t.Fatal(err)
		}
		insertFrom(t, st, ws, "audiences", "aud-2")
		testutil.WaitWithin(t, 20*time.Second, "aud-2 delivered once they are on", func() bool { return deliveredAll(r, []string{"aud-2"}) })
	})
}
