package store

import (
	"context"
	"fmt"
)

// EventCountCap is where CountEvents stops counting: the events page shows
// "10,000+" beyond it rather than paying for an exact count of millions.
const EventCountCap = 10000

// CountMatchingEvents counts the events f selects (its cursors ignored), reading at
// most upTo+1 index entries: an exact count up to upTo, and more=true past
// it. The page order's indexes serve it, so its cost is bounded like a page's.
func (s *Store) CountMatchingEvents(ctx context.Context, f EventFilter, upTo int) (n int, more bool, err error) {
	if upTo <= 0 {
		upTo = EventCountCap
	}
	f.Before, f.After, f.countUpTo = nil, nil, upTo
	q, args, err := listEventsSQL(f)
	if err != nil {
		return 0, false, err
	}
	if err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM ("+q+") c", args...).Scan(&n).Error; err != nil {
		return 0, false, fmt.Errorf("count events of %s: %w", f.WorkspaceID, err)
	}
	if n > upTo {
		return upTo, true, nil
	}
	return n, false, nil
}

// ExplainCountMatchingEvents is ExplainListEvents for the count CountMatchingEvents runs.
func (s *Store) ExplainCountMatchingEvents(ctx context.Context, f EventFilter, upTo int) (string, error) {
	f.Before, f.After, f.countUpTo = nil, nil, upTo
	return s.explain(ctx, f, func(q string) string { return "SELECT count(*) FROM (" + q + ") c" })
}
