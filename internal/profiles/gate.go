package profiles

import (
	"context"

	"github.com/inlet-dev/inlet/internal/store"
)

// Inserter is the store's write used by the ingester.
type Inserter interface {
	InsertEvents(ctx context.Context, events []store.NewEvent) ([]bool, error)
	InsertEventsFirstNew(ctx context.Context, events []store.NewEvent) ([]bool, error)
}

// Gate sits between the ingester and the store: it drops events of
// suppressed ids before they are stored (the caller still acknowledges them,
// reported as duplicates, so Segment does not retry), and wakes the follower
// after a commit that stored something. With no suppression in a workspace
// it costs one map lookup per commit.
type Gate struct {
	Inner        Inserter
	Suppressions *Suppressions // optional
	AfterCommit  func()        // optional, e.g. Follower.Notify; must not block
}

// InsertEvents implements ingest.Inserter.
func (g *Gate) InsertEvents(ctx context.Context, events []store.NewEvent) ([]bool, error) {
	return g.insert(ctx, events, g.Inner.InsertEvents)
}

// InsertEventsFirstNew implements ingest.Inserter for arrays signed over
// element 0 only. When element 0 itself is suppressed the whole request is
// dropped: what follows it was not signed, and must not become the element
// whose freshness decides whether the rest goes in.
func (g *Gate) InsertEventsFirstNew(ctx context.Context, events []store.NewEvent) ([]bool, error) {
	if len(events) > 0 && g.Suppressions != nil {
		_ = g.Suppressions.Refresh(ctx)
		if e := &events[0]; g.Suppressions.SuppressedEvent(e.WorkspaceID, e.UserID, e.AnonymousID, e.PreviousID) {
			return make([]bool, len(events)), nil
		}
	}
	return g.insert(ctx, events, g.Inner.InsertEventsFirstNew)
}

func (g *Gate) insert(ctx context.Context, events []store.NewEvent, insert func(context.Context, []store.NewEvent) ([]bool, error)) ([]bool, error) {
	keep := events
	var dropped []bool
	if g.Suppressions != nil {
		// A failed refresh keeps the last known list: the database is then
		// failing the insert below too, and the follower checks again.
		_ = g.Suppressions.Refresh(ctx)
		for i := range events {
			e := &events[i]
			if g.Suppressions.SuppressedEvent(e.WorkspaceID, e.UserID, e.AnonymousID, e.PreviousID) {
				if dropped == nil {
					dropped = make([]bool, len(events))
					keep = append(make([]store.NewEvent, 0, len(events)), events[:i]...)
				}
				dropped[i] = true
				continue
			}
			if dropped != nil {
				keep = append(keep, *e)
			}
		}
	}
	fresh, err := insert(ctx, keep)
	if err != nil {
		return nil, err
	}
	if g.AfterCommit != nil {
		for _, ok := range fresh {
			if ok {
				g.AfterCommit()
				break
			}
		}
	}
	if dropped == nil {
		return fresh, nil
	}
	out := make([]bool, len(events))
	j := 0
	for i := range events {
		if dropped[i] {
			continue
		}
		out[i] = fresh[j]
		j++
	}
	return out, nil
}
