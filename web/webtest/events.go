package webtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/store"
)

// StoreEvents puts n events in ws straight through the store, one second
// apart (newest last), so pages have a known content.
func StoreEvents(t testing.TB, st *store.Store, ws uuid.UUID, n int, mutate func(i int, e *store.NewEvent)) {
	t.Helper()
	base := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	var evs []store.NewEvent
	for i := range n {
		e := store.NewEvent{WorkspaceID: ws, MessageID: fmt.Sprintf("m-%03d", i), Type: "track", Event: "Clicked",
			UserID: fmt.Sprintf("u-%d", i%4), ReceivedAt: base.Add(time.Duration(i) * time.Second), Source: "webhook"}
		if i%2 == 1 {
			e.Type, e.Event = "identify", ""
		}
		if mutate != nil {
			mutate(i, &e)
		}
		if e.Raw == nil {
			e.Raw = []byte(fmt.Sprintf(`{"type":%q,"messageId":%q,"properties":{"n":%d}}`, e.Type, e.MessageID, i))
		}
		evs = append(evs, e)
	}
	if _, err := st.InsertEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}
