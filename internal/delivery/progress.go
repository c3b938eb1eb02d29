package delivery

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// What a worker step turns its attempts into: the progress it saves in one
// transaction, the metrics, and the pause a 410 asks for.

func (w *worker) progress() store.DeliveryProgress {
	return store.DeliveryProgress{DestinationID: w.id, Owner: w.m.opts.Owner, Now: time.Now()}
}

// account turns the results into progress: delivered events leave the
// retry table, failed ones get their next attempt or are given up. It
// returns how many failed.
func (w *worker) account(p *store.DeliveryProgress, items []*item) int {
	o := w.m.opts
	now := time.Now()
	failed, okRecorded := 0, 0
	for i := len(items) - 1; i >= 0; i-- { // newest first, so the recorded successes are the latest
		it := items[i]
		if it.skip {
			if it.retry {
				p.Done = append(p.Done, it.eventID)
			}
			continue
		}
		r := it.res
		a := store.DestinationAttempt{At: now, EventID: it.eventID, MessageID: it.messageID,
			WebhookID: WebhookID(w.id, it.messageID), Attempt: it.attempts + 1, Status: r.Status, Latency: r.Latency,
			Response: r.Response}
		if r.OK() {
			p.Delivered++
			if it.retry {
				p.Done = append(p.Done, it.eventID)
			}
			a.Outcome = "delivered"
			w.observe(a.Outcome, r)
			if okRecorded < maxDeliveredRecords {
				okRecorded++
				p.Attempts = append(p.Attempts, a)
			}
			continue
		}
		failed++
		first := now
		if it.first != nil {
			first = *it.first
		}
		next, giveUp := o.Retry.Next(it.attempts+1, first, now, r.RetryAfter)
		rs := store.RetryState{EventID: it.eventID, Attempts: it.attempts + 1, NextAt: next, FirstFailedAt: first,
			Status: r.Status, Error: r.Reason(), Failed: giveUp}
		if r.RetryAfter > 0 {
			rs.NotBefore = now.Add(r.RetryAfter) // a drain after a recovery keeps it
		}
		a.Reason, a.Outcome = r.Reason(), "retrying"
		switch {
		case r.Status == http.StatusGone:
			a.Outcome, rs.Failed, rs.NextAt = "paused", false, now
		case giveUp:
			a.Outcome, rs.NextAt = "failed", now
			p.GaveUp++
		}
		w.observe(a.Outcome, r)
		p.Retry = append(p.Retry, rs)
		p.Attempts = append(p.Attempts, a)
	}
	return failed
}

func (w *worker) observe(outcome string, r Result) {
	if w.m.opts.Observer != nil {
		w.m.opts.Observer.DestinationAttempt(outcome, r.Status, r.Latency)
	}
}

// pauseIfGone pauses the destination when its receiver answered 410 Gone:
// the receiver says the endpoint no longer exists. The event stays in the
// retry table, so a resume sends it again.
func (w *worker) pauseIfGone(ctx context.Context, items []*item) error {
	for _, it := range items {
		if it.res.Status == http.StatusGone {
			reason := fmt.Sprintf("the receiver answered 410 Gone at %s (event %s); resume once it accepts events again",
				time.Now().UTC().Format(time.RFC3339), it.messageID)
			if err := w.m.st.SetDestinationPaused(ctx, w.d.WorkspaceID, w.id, true, reason); err != nil {
				return err
			}
			w.log().Warn("destination paused: its receiver answered 410 Gone")
			return errPaused
		}
	}
	return nil
}
