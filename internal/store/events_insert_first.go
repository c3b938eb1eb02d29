package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
)

// ErrFirstElementStored refuses a request signed only over its element 0
// (Segment's Webhooks (Actions) batching) whose element 0 is already stored
// while other events in it are not: a genuine retry repeats the whole batch,
// so new events behind an old signed element were appended by someone who
// captured that element, not by Segment.
var ErrFirstElementStored = errors.New("element 0 of this element-0-signed batch is already stored, and the batch adds events that are not")

// InsertEventsFirstNew is InsertEvents for a request whose signature covers
// only events[0]. In one transaction it inserts events[0] first; only if that
// is new are the others inserted. If events[0] was already stored, the
// request is a harmless retry when every other event is stored too (all are
// reported duplicates) and ErrFirstElementStored otherwise, with nothing
// stored. Two such requests racing on the same element 0 are serialised by
// the unique key: the second waits for the first's commit and sees it stored.
func (s *Store) InsertEventsFirstNew(ctx context.Context, events []NewEvent) ([]bool, error) {
	if len(events) == 0 {
		return nil, nil
	}
	inserted := make(map[eventKey]bool, len(events))
	// Element 0 alone first, then the rest. On PostgreSQL, too, this goes
	// through the multi-row INSERT rather than the unnest fast path: these
	// requests are rare and each needs its own transaction anyway.
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := insertChunks(tx, events[:1], inserted); err != nil {
			return err
		}
		if inserted[keyOf(&events[0])] {
			return insertChunks(tx, events[1:], inserted)
		}
		all, err := allStored(tx, events[1:])
		if err != nil {
			return err
		}
		if !all {
			return ErrFirstElementStored
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return freshness(events, inserted), nil
}

// allStored reports whether every event's key is already in the table.
func allStored(tx *gorm.DB, events []NewEvent) (bool, error) {
	want := make(map[eventKey]bool, len(events))
	for i := range events {
		want[keyOf(&events[i])] = true
	}
	keys := make([]eventKey, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	for start := 0; start < len(keys); start += 200 {
		chunk := keys[start:min(start+200, len(keys))]
		var q strings.Builder
		q.WriteString("SELECT count(*) FROM events WHERE ")
		args := make([]any, 0, len(chunk)*4)
		for i, k := range chunk {
			if i > 0 {
				q.WriteString(" OR ")
			}
			q.WriteString("(workspace_id = ? AND message_id = ? AND source = ? AND source_key = ?)")
			args = append(args, k.ws.String(), k.mid, k.source, k.key)
		}
		var n int
		if err := tx.Raw(q.String(), args...).Row().Scan(&n); err != nil {
			return false, fmt.Errorf("look up %d stored events: %w", len(chunk), err)
		}
		if n != len(chunk) {
			return false, nil
		}
	}
	return true, nil
}
