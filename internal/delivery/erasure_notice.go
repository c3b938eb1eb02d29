package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/store"
)

// ErasureNotice tells a destination's owner that a person was erased, so
// their own services can forget the person too.
type ErasureNotice struct {
	ErasureID    uuid.UUID
	UserID       string   // the profile's userId; "" for an anonymous-only profile
	UserIDs      []string // every userId merged into the profile
	AnonymousIDs []string
}

// noticeBody is the JSON posted: {"type":"erasure","userId",
// "anonymousIds","erasureId"}, with every userId of the profile in userIds.
func noticeBody(n ErasureNotice) ([]byte, error) {
	var user any
	if n.UserID != "" {
		user = n.UserID
	}
	anons, users := n.AnonymousIDs, n.UserIDs
	if anons == nil {
		anons = []string{}
	}
	if users == nil {
		users = []string{}
	}
	return json.Marshal(map[string]any{"type": "erasure", "userId": user, "userIds": users,
		"anonymousIds": anons, "erasureId": n.ErasureID.String()})
}

// noticeBackoff is when a failed notice is tried again (after the first
// attempt): a receiver briefly down still learns of the erasure.
var noticeBackoff = []time.Duration{time.Second, 5 * time.Second, 30 * time.Second}

// SendErasureNotices posts the notice, signed the Standard Webhooks way
// with each destination's secrets, to every active destination of ws that
// opted in, trying each up to four times. The attempt is recorded on the
// destination's page without the receiver's answer (it may echo the ids).
// It returns when every destination got it or gave up; callers run it in
// the background.
func (s *Sender) SendErasureNotices(ctx context.Context, st *store.Store, ws uuid.UUID, n ErasureNotice, log *slog.Logger) error {
	dests, err := st.ErasureNoticeDestinations(ctx, ws)
	if err != nil {
		return fmt.Errorf("erasure notice destinations: %w", err)
	}
	if len(dests) == 0 {
		return nil
	}
	body, err := noticeBody(n)
	if err != nil {
		return fmt.Errorf("erasure notice: %w", err)
	}
	msg := "erasure-" + n.ErasureID.String()
	done := make(chan struct{}, len(dests))
	for _, d := range dests {
		go func() {
			defer func() { done <- struct{}{} }()
			id := WebhookID(d.ID, msg)
			for attempt := 1; ; attempt++ {
				r := s.Send(ctx, d.URL, d.SigningSecrets(time.Now()), id, body)
				a := store.DestinationAttempt{At: time.Now(), MessageID: msg, WebhookID: id, Attempt: attempt, Status: r.Status,
					Latency: r.Latency, Outcome: "erasure notice delivered", Reason: r.Reason()}
				if !r.OK() {
					a.Outcome = "erasure notice failed"
				}
				if err := st.AddDestinationAttempt(ctx, d.ID, a); err != nil && log != nil {
					log.Warn("erasure notice: attempt not recorded", "destination", d.ID, "err", err)
				}
				if r.OK() || attempt > len(noticeBackoff) || ctx.Err() != nil {
					if !r.OK() && log != nil {
						log.Warn("erasure notice not delivered", "destination", d.ID, "erasure", n.ErasureID, "reason", r.Reason())
					}
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(min(max(noticeBackoff[attempt-1], r.RetryAfter), 5*time.Minute)):
				}
			}
		}()
	}
	for range dests {
		<-done
	}
	return nil
}

// Notifier returns what an erasure calls when it has finished: the notices
// go out in the background (the erasure's answer does not wait on
// receivers), in group, whose Stop (shutdown) ends them and waits for them.
func (s *Sender) Notifier(group *lifecycle.Group, st *store.Store, log *slog.Logger) func(ctx context.Context, ws uuid.UUID, n ErasureNotice) {
	return func(_ context.Context, ws uuid.UUID, n ErasureNotice) {
		started := group.Go(func(base context.Context) {
			ctx, cancel := context.WithTimeout(base, 10*time.Minute)
			defer cancel()
			if err := s.SendErasureNotices(ctx, st, ws, n, log); err != nil && log != nil {
				log.Warn("erasure notices not sent", "workspace", ws, "erasure", n.ErasureID, "err", err)
			}
		})
		if !started && log != nil {
			log.Warn("erasure notices not sent: shutting down", "workspace", ws, "erasure", n.ErasureID)
		}
	}
}
