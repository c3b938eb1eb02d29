package audiences

import (
	"slices"
	"sync"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// handoffMax bounds the events kept per workspace and handoffBytes their
// size in all workspaces together (the JSON of those the where clauses
// read, plus ~300 bytes each for the rest): an engine further behind, or a
// workspace whose run made room for a busier one, reads the feed itself
// until it is back within reach.
const (
	handoffMax   = 50_000
	handoffBytes = 32 << 20
)

// handoff keeps, per workspace, the profile follower's committed batches
// as one contiguous run of the feed: every event after `after`, in feed
// order, read with the need named by sig. The engine takes from it the
// events after its own cursor when the run reaches back that far, so at a
// steady state the database sends each row once, not twice.
type handoff struct {
	mu sync.Mutex
	ws map[uuid.UUID]*handedRun
}

type handedRun struct {
	after  store.FeedCursor
	sig    string
	events []store.FeedEvent
	bytes  int
}

// eventBytes is about what a handed event holds in memory.
func eventBytes(e *store.FeedEvent) int {
	return 300 + len(e.Raw) + len(e.MessageID) + len(e.UserID) + len(e.AnonymousID) + len(e.Event)
}

// Need is the profile follower's question (profiles.Handoff): the events
// whose JSON the engine's where clauses read, from the definitions it last
// loaded. A workspace the engine has no audience in needs nothing.
func (e *Engine) Need(ws uuid.UUID) store.FeedNeed {
	if s := e.cache.get(ws); s != nil && !s.empty() {
		return s.feedNeed()
	}
	return store.FeedNeed{}
}

// Handed keeps a batch the profile follower committed (profiles.Handoff).
func (e *Engine) Handed(ws uuid.UUID, after store.FeedCursor, need store.FeedNeed, events []store.FeedEvent) {
	if len(events) == 0 {
		return
	}
	if s := e.cache.get(ws); s == nil || s.empty() {
		e.handed.drop(ws) // no audience: nothing reads these
		return
	}
	e.handed.add(ws, after, needSig(need), events)
}

func (h *handoff) add(ws uuid.UUID, after store.FeedCursor, sig string, events []store.FeedEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ws == nil {
		h.ws = map[uuid.UUID]*handedRun{}
	}
	r := h.ws[ws]
	if r == nil || r.sig != sig || r.end() != after {
		// Not a continuation (another instance's batch came between, or
		// the need changed): start a new run here.
		r = &handedRun{after: after, sig: sig}
		h.ws[ws] = r
	}
	r.events = append(r.events, events...)
	total := 0
	for i := range events {
		r.bytes += eventBytes(&events[i])
	}
	for _, o := range h.ws {
		total += o.bytes
	}
	for other, o := range h.ws {
		if total <= handoffBytes {
			break
		}
		if other != ws {
			total -= o.bytes
			delete(h.ws, other)
		}
	}
	over, b := 0, r.bytes
	for over < len(r.events) && (len(r.events)-over > handoffMax || b > handoffBytes) {
		b -= eventBytes(&r.events[over])
		over++
	}
	if over > 0 {
		r.trim(over)
		r.events = slices.Clone(r.events)
	}
}

// trim drops the first n events.
func (r *handedRun) trim(n int) {
	for i := range n {
		r.bytes -= eventBytes(&r.events[i])
	}
	r.after = r.events[n-1].Cursor
	r.events = r.events[n:]
}

func (r *handedRun) end() store.FeedCursor {
	if len(r.events) == 0 {
		return r.after
	}
	return r.events[len(r.events)-1].Cursor
}

// take answers up to limit events after c0 when the run covers them
// (it starts at or before c0) and was read with need; the events at or
// before c0 are dropped, as the cursor is past them for good.
func (h *handoff) take(ws uuid.UUID, c0 store.FeedCursor, need store.FeedNeed, limit int) ([]store.FeedEvent, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.ws[ws]
	if r == nil || r.sig != needSig(need) || !c0.Reached(r.after) {
		return nil, false
	}
	i := 0
	for i < len(r.events) && c0.Reached(r.events[i].Cursor) {
		i++
	}
	if i > 0 {
		r.trim(i)
	}
	if len(r.events) == 0 {
		return nil, false // nothing handed yet past c0: read the feed
	}
	return slices.Clone(r.events[:min(limit, len(r.events))]), true
}

func (h *handoff) drop(ws uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.ws, ws)
}

// needSig names a need: a run read with another need may lack JSON the
// engine now reads.
func needSig(n store.FeedNeed) string {
	b := []byte{}
	for _, s := range n.Names {
		b = append(append(b, 'n'), s...)
		b = append(b, 0)
	}
	for _, s := range n.Types {
		b = append(append(b, 't'), s...)
		b = append(b, 0)
	}
	return string(b)
}
