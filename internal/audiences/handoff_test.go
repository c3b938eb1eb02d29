package audiences

import (
	"testing"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

func feedRun(from, to int64) []store.FeedEvent {
	var out []store.FeedEvent
	for id := from; id <= to; id++ {
		out = append(out, store.FeedEvent{Cursor: store.FeedCursor{Tx: 1, ID: id}})
	}
	return out
}

func cursorAt(id int64) store.FeedCursor { return store.FeedCursor{Tx: 1, ID: id} }

// The engine takes handed events only where the run covers everything
// after its cursor, read with the need it has now.
func TestHandoffTakesOnlyWhatContinuesItsCursor(t *testing.T) {
	t.Parallel()
	var h handoff
	ws := uuid.New()
	need := store.FeedNeed{Names: []string{"E"}}
	h.add(ws, cursorAt(0), needSig(need), feedRun(1, 5))
	h.add(ws, cursorAt(5), needSig(need), feedRun(6, 8))
	got, ok := h.take(ws, cursorAt(0), need, 100)
	if !ok || len(got) != 8 || got[0].Cursor.ID != 1 {
		t.Fatalf("from the start: %d events, %v", len(got), ok)
	}
	if got, ok = h.take(ws, cursorAt(6), need, 1); !ok || len(got) != 1 || got[0].Cursor.ID != 7 {
		t.Fatalf("after 6, one: %v %v", got, ok)
	}
	// The cursor is past 6 for good: an older cursor is no longer covered.
	if _, ok = h.take(ws, cursorAt(3), need, 100); ok {
		t.Error("a cursor before the run's start was answered")
	}
	if _, ok = h.take(ws, cursorAt(6), store.FeedNeed{Names: []string{"F"}}, 100); ok {
		t.Error("events read for another need were answered")
	}
	if _, ok = h.take(ws, cursorAt(8), need, 100); ok {
		t.Error("nothing past the cursor, yet answered")
	}
	// A batch that does not continue the run (another instance's came
	// between) starts a new one: the cursor before it reads the feed.
	h.add(ws, cursorAt(10), needSig(need), feedRun(11, 12))
	if _, ok = h.take(ws, cursorAt(8), need, 100); ok {
		t.Error("a gap (9, 10) was bridged")
	}
	if got, ok = h.take(ws, cursorAt(10), need, 100); !ok || len(got) != 2 {
		t.Errorf("after the gap: %v %v", got, ok)
	}
	// Past handoffMax the oldest go: a cursor before them reads the feed.
	h.add(ws, cursorAt(12), needSig(need), feedRun(13, 12+handoffMax+5))
	if r := h.ws[ws]; len(r.events) != handoffMax || r.bytes != handoffMax*300 {
		t.Errorf("kept %d events, %d bytes", len(r.events), r.bytes)
	}
	if _, ok = h.take(ws, cursorAt(12), need, 100); ok {
		t.Error("dropped events were answered")
	}
	if got, ok = h.take(ws, cursorAt(17), need, 100); !ok || got[0].Cursor.ID != 18 {
		t.Errorf("after the dropped ones: %v", ok)
	}
}

// Large events are kept by size: an engine behind them reads the feed.
func TestHandoffBoundsBytes(t *testing.T) {
	t.Parallel()
	var h handoff
	ws := uuid.New()
	big := feedRun(1, 40)
	raw := make([]byte, 1<<20)
	for i := range big {
		big[i].Raw = raw
	}
	h.add(ws, cursorAt(0), "", big)
	r := h.ws[ws]
	if r.bytes > handoffBytes || len(r.events) >= 40 || len(r.events) < 30 {
		t.Errorf("kept %d events of 1 MB, %d bytes", len(r.events), r.bytes)
	}
	if _, ok := h.take(ws, cursorAt(0), store.FeedNeed{}, 10); ok {
		t.Error("dropped events were answered")
	}
}

// The size bound holds across workspaces: a busy one pushes the others'
// runs out rather than each keeping its own budget.
func TestHandoffBoundsBytesAcrossWorkspaces(t *testing.T) {
	t.Parallel()
	var h handoff
	raw := make([]byte, 1<<20)
	batch := feedRun(1, 20)
	for i := range batch {
		batch[i].Raw = raw
	}
	a, b := uuid.New(), uuid.New()
	h.add(a, cursorAt(0), "", batch)
	h.add(b, cursorAt(0), "", batch)
	total := 0
	for _, r := range h.ws {
		total += r.bytes
	}
	if total > handoffBytes || h.ws[b] == nil || len(h.ws[b].events) != 20 {
		t.Errorf("kept %d bytes in %d runs", total, len(h.ws))
	}
}
