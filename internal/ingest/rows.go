package ingest

import (
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
)

// Rows turns parsed events into the rows Submit stores for workspace ws:
// received at at, from source, sent with the write key sourceKey ("" when
// not sent with one). trusted says the source may merge two known users
// (store.NewEvent.Trusted): the signed webhook, a server write key.
func Rows(ws uuid.UUID, source, sourceKey string, trusted bool, at time.Time, events []segment.Event) []store.NewEvent {
	out := make([]store.NewEvent, len(events))
	at = at.UTC()
	for i, e := range events {
		out[i] = store.NewEvent{
			WorkspaceID: ws, MessageID: e.MessageID, Type: e.Type, Event: e.Event,
			UserID: e.UserID, AnonymousID: e.AnonymousID, GroupID: e.GroupID, PreviousID: e.PreviousID,
			Timestamp: e.Timestamp, ReceivedAt: at, Source: source, SourceKey: sourceKey, Trusted: trusted, Raw: e.Raw,
		}
	}
	return out
}
