package webhook

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/internal/store"
)

// Eraser erases one userId of a workspace for a Segment deletion request
// (a "delete" call), with the workspace's default suppression; it returns
// the erasure's id and how many events went.
type Eraser func(ctx context.Context, ws uuid.UUID, userID, messageID string) (uuid.UUID, int64, error)

// eraseTimeout bounds the erasures of one request. They run to the end
// even when Segment stops waiting (its retry then finds little left), so a
// dropped connection never leaves an erasure half done.
const eraseTimeout = 30 * time.Second

// takeDeletes splits Segment's "delete" calls out of a request's rows when
// the workspace treats them as erasures: the calls are neither stored nor
// forwarded. In an array signed over element 0 only, just element 0 is
// Segment's for sure: a delete there is honoured and the rest of the array
// is dropped (nothing new can be bound to it), and a delete further on is
// dropped unhonoured, since anyone holding one signed event could append it.
func takeDeletes(ws store.Workspace, rows []store.NewEvent, firstOnly bool) (keep, deletes []store.NewEvent, dropped int) {
	if !ws.SegmentDeletes {
		return rows, nil, 0
	}
	if firstOnly {
		if len(rows) > 0 && rows[0].Type == "delete" {
			return nil, rows[:1], len(rows) - 1
		}
		for _, r := range rows {
			if r.Type == "delete" {
				dropped++
			} else {
				keep = append(keep, r)
			}
		}
		return keep, nil, dropped
	}
	for _, r := range rows {
		if r.Type == "delete" {
			deletes = append(deletes, r)
		} else {
			keep = append(keep, r)
		}
	}
	return keep, deletes, 0
}

// erase honours the deletion requests of one request, after its other
// events are stored (an event of the same user in the same body goes too).
func (h *Handler) erase(ctx context.Context, ws uuid.UUID, deletes []store.NewEvent) (int, error) {
	if len(deletes) == 0 {
		return 0, nil
	}
	if h.Erase == nil {
		return 0, fmt.Errorf("segment delete calls: no eraser configured")
	}
	log := reqlog.From(ctx)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eraseTimeout)
	defer cancel()
	n := 0
	for _, d := range deletes {
		if d.UserID == "" {
			// Segment's regulations name a userId; without one there is no
			// one to erase, and the call is still not stored.
			log.Warn("segment delete call without a userId ignored", "workspace", ws, "message_id", d.MessageID)
			continue
		}
		id, events, err := h.Erase(ctx, ws, d.UserID, d.MessageID)
		if err != nil {
			return n, fmt.Errorf("segment delete call %s: %w", d.MessageID, err)
		}
		// Never the userId: the log says an erasure happened, not whom.
		log.Info("segment deletion request: user erased", "workspace", ws, "erasure", id, "events_deleted", events, "message_id", d.MessageID)
		n++
	}
	return n, nil
}
