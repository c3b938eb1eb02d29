package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/store"
)

// TestEvent is the body "send test event" posts: a track event that says
// what it is, with its own messageId (and so its own webhook-id).
func TestEvent(now time.Time) (messageID string, body []byte) {
	messageID = store.TestMessagePrefix + uuid.NewString()
	body, _ = json.Marshal(map[string]any{
		"type": "track", "event": "Inlet Test Event", "messageId": messageID, "userId": "inlet-test",
		"properties": map[string]any{"test": true, "note": "sent from Inlet's destination page"},
		"timestamp":  now.UTC().Format(time.RFC3339Nano),
	})
	return messageID, body
}

// SendTest posts a test event to d now, records the attempt on its page and
// returns the result. It does not touch the cursor or the retry table.
func (s *Sender) SendTest(ctx context.Context, st *store.Store, d store.Destination) (Result, error) {
	now := time.Now()
	msg, body := TestEvent(now)
	id := WebhookID(d.ID, msg)
	r := s.Send(ctx, d.URL, d.SigningSecrets(now), id, body)
	a := store.DestinationAttempt{At: now, MessageID: msg, WebhookID: id, Attempt: 1, Status: r.Status,
		Latency: r.Latency, Outcome: "test delivered", Reason: r.Reason(), Response: r.Response}
	if !r.OK() {
		a.Outcome = "test failed"
	}
	if err := st.AddDestinationAttempt(ctx, d.ID, a); err != nil {
		return r, fmt.Errorf("record test attempt: %w", err)
	}
	return r, nil
}
