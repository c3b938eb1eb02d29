package delivery

import (
	"context"

	"github.com/google/uuid"
)

// SuppressedFunc reports whether an event carrying these ids belongs to an
// erased person whose ids are suppressed (profiles' one rule).
type SuppressedFunc func(ctx context.Context, ws uuid.UUID, userID, anonymousID, previousID string) bool

// eventIDs are the ids an event carries.
type eventIDs struct{ userID, anonymousID, previousID string }

// dropErased marks, just before a window is sent, the events of erased
// people: deleted since the worker read them (an erasure), or carrying a
// suppressed id. They are not sent, not recorded and not retried, so an
// erased person's pending retries and circuit probes go nowhere once the
// erasure has answered. send checks the suppression again right before
// each attempt, for an erasure that begins while the window waits.
func (w *worker) dropErased(ctx context.Context, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.eventID
	}
	stored, err := w.m.st.ExistingEventIDs(ctx, w.d.WorkspaceID, ids)
	if err != nil {
		return err
	}
	for _, it := range items {
		if !stored[it.eventID] || w.suppressed(ctx, it) {
			it.skip = true
		}
	}
	return nil
}

func (w *worker) suppressed(ctx context.Context, it *item) bool {
	f := w.m.opts.Suppressed
	return f != nil && f(ctx, w.d.WorkspaceID, it.ids.userID, it.ids.anonymousID, it.ids.previousID)
}

// sentOnly drops the skipped items: only attempts say whether a receiver
// is up.
func sentOnly(items []*item) []*item {
	out := items[:0:0]
	for _, it := range items {
		if !it.skip {
			out = append(out, it)
		}
	}
	return out
}
