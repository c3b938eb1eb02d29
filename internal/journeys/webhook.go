package journeys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// fireWebhooks is the timer handler of WebhookTimerKind: one attempt of
// each due webhook step, through its destination (URL, signing secrets,
// retry schedule; not its type filter: a journey post is not an event of
// the stream). A failure moves the timer to the next retry.
func (e *Engine) fireWebhooks(ctx context.Context, due []store.Timer) error {
	var errs []error
	for _, t := range due {
		if err := e.postWebhook(ctx, t); err != nil {
			errs = append(errs, fmt.Errorf("webhook %s: %w", t.Key, err))
		}
	}
	return errors.Join(errs...)
}

func (e *Engine) postWebhook(ctx context.Context, t store.Timer) error {
	ws := t.WorkspaceID
	w, err := e.st.JourneyWebhookByKey(ctx, ws, t.Key)
	if errors.Is(err, store.ErrNotFound) {
		return nil // erased with its user
	}
	if err != nil || w.Status != "queued" {
		return err
	}
	now := time.Now().UTC()
	if gone, err := profiles.IsSuppressed(ctx, e.st, ws, store.IdentityUser, w.UserID); err != nil {
		return err
	} else if gone {
		return e.st.RecordWebhookAttempt(ctx, ws, w.SendKey, "failed", "the user is erased", now)
	}
	dests, err := e.st.Destinations(ctx, ws)
	if err != nil {
		return err
	}
	dest, ok := destinationNamed(dests, w.Destination)
	if !ok {
		return e.st.RecordWebhookAttempt(ctx, ws, w.SendKey, "failed", "no destination is named "+w.Destination, now)
	}
	res := e.hooks.Send(ctx, dest.URL, dest.SigningSecrets(now), delivery.WebhookID(dest.ID, w.SendKey), []byte(w.Body))
	now = time.Now().UTC()
	if res.OK() {
		return e.st.RecordWebhookAttempt(ctx, ws, w.SendKey, "sent", res.Reason(), now)
	}
	next, giveUp := e.opts.WebhookPolicy.Next(w.Attempts+1, w.CreatedAt, now, res.RetryAfter)
	if giveUp {
		return e.st.RecordWebhookAttempt(ctx, ws, w.SendKey, "failed", res.Reason(), now)
	}
	if err := e.st.RecordWebhookAttempt(ctx, ws, w.SendKey, "queued", res.Reason(), now); err != nil {
		return err
	}
	// Moving the timer keeps it from being removed as fired.
	return e.st.SetTimers(ctx, WebhookTimerKind, ws, []store.TimerSet{{Key: w.SendKey, Due: next}})
}
