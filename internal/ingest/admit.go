package ingest

import "sync"

// DefaultInflightBytes is the admission budget when Options leave it zero:
// enough for hundreds of typical Segment deliveries at once, small enough
// that what is admitted can be parsed and committed well within Segment's
// 5 s timeout on a small machine.
const DefaultInflightBytes = 8 << 20

// Admit reserves n bytes of the in-flight budget for a request about to be
// parsed and committed; call release once it is answered. When the budget
// is spent it returns ErrOverloaded at once, so offered load beyond capacity
// meets a fast 503 instead of every request slowing down together while
// bodies pile up in memory. A lone request larger than the budget is still
// admitted when nothing else is in flight, or it could never be stored.
func (in *Ingester) Admit(n int64) (release func(), err error) {
	in.mu.RLock()
	closed := in.closed
	in.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	if total := in.inflight.Add(n); total > in.opts.InflightBytes && total != n {
		in.inflight.Add(-n)
		return nil, ErrOverloaded
	}
	var once sync.Once
	return func() { once.Do(func() { in.inflight.Add(-n) }) }, nil
}

// Saturated reports whether the in-flight budget is spent right now, so a
// caller can refuse a request before even reading its body.
func (in *Ingester) Saturated() bool { return in.inflight.Load() >= in.opts.InflightBytes }

// InflightBytes is the request bytes admitted and not yet answered.
func (in *Ingester) InflightBytes() int64 { return in.inflight.Load() }
