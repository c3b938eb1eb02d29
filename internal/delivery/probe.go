package delivery

import (
	"context"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// probe is a step while the circuit is open: when the next probe is due it
// sends one event and lets its answer decide. Probes alternate between the
// waiting retry due soonest on its own schedule (whose Retry-After has
// passed) and the feed's next event, so one event the receiver always
// refuses cannot keep the circuit open by being every probe: a failed probe
// moves that event along its schedule. The first
// answer from the receiver closes the circuit and brings every pending
// retry forward in the same transaction, so the next steps drain them in
// order at full speed. It reports whether there was anything to do.
func (w *worker) probe(ctx context.Context, now time.Time) (bool, error) {
	if !w.circ.probeDue(now) {
		return false, nil
	}
	p := w.progress()
	var it *item
	var pe store.PendingEvent
	ok := false
	fromFeed := w.circ.feedNext
	w.circ.feedNext = !w.circ.feedNext
	if !fromFeed {
		var err error
		if pe, ok, err = w.m.st.ProbeRetry(ctx, w.d, now); err != nil {
			return false, err
		}
	}
	switch {
	case ok && pe.Gone:
		p.Done = append(p.Done, pe.EventID) // deleted by retention: nothing to send
		return true, w.m.st.SaveDeliveryProgress(ctx, p)
	case ok:
		it = &item{eventID: pe.EventID, messageID: pe.MessageID, typ: pe.Type, raw: pe.Raw,
			attempts: pe.Attempts, first: pe.FirstFailedAt, retry: true, ids: eventIDs{pe.UserID, pe.AnonymousID, pe.PreviousID}}
	default:
		evs, err := w.m.st.ReadFeed(ctx, w.d.WorkspaceID, w.d.Cursor, 1)
		if err != nil {
			return false, err
		}
		if len(evs) == 0 {
			if fromFeed { // nothing new: the next step probes with a retry
				return true, nil
			}
			return false, nil
		}
		e := evs[0]
		if err := w.refreshAudienceChoice(ctx, evs[:1]); err != nil {
			return false, err
		}
		cursor := e.Cursor
		p.Cursor = &cursor
		if !w.d.WantsEvent(e.Type, e.Source) || store.IsTestEvent(e.MessageID) { // not for this destination: move on without spending the probe
			if err := w.m.st.SaveDeliveryProgress(ctx, p); err != nil {
				return false, err
			}
			w.d.Cursor = cursor
			return true, nil
		}
		it = &item{eventID: e.Cursor.ID, messageID: e.MessageID, typ: e.Type, raw: e.Raw,
			ids: eventIDs{e.UserID, e.AnonymousID, e.PreviousID}}
	}
	items := []*item{it}
	if err := w.dropErased(ctx, items); err != nil {
		return true, err
	}
	if err := w.send(ctx, items); err != nil {
		return true, err
	}
	if ctx.Err() != nil {
		return true, ctx.Err()
	}
	w.account(&p, items)
	if it.skip { // an erased person's event is never a probe: it goes, the circuit stays as it was
		if err := w.m.st.SaveDeliveryProgress(ctx, p); err != nil {
			return true, err
		}
		if p.Cursor != nil {
			w.d.Cursor = *p.Cursor
		}
		return true, nil
	}
	// The next step counts from the answer, not from when the probe was
	// prepared: a slow answer never shortens the wait between two probes.
	p.Drain = w.circ.afterProbe(it.res, time.Now())
	p.Circuit = w.circ.saved()
	if err := w.m.st.SaveDeliveryProgress(ctx, p); err != nil {
		return true, err
	}
	if p.Cursor != nil {
		w.d.Cursor = *p.Cursor
	}
	if p.Drain {
		w.log().Info("delivery: receiver answered again; circuit closed, sending the backlog")
	}
	return true, w.pauseIfGone(ctx, items)
}
