package ingest

import (
	"context"
	"errors"
	"sync"
	"time"
)

// DefaultTimeout is Options.Timeout when left zero (INGEST_TIMEOUT's
// default): how long a request waits for read budget and for its commit.
const DefaultTimeout = 3 * time.Second

// DefaultInflightBytes is the admission budget when Options leave it zero:
// enough for hundreds of typical Segment deliveries at once, small enough
// that what is admitted can be parsed and committed well within Segment's
// 5 s timeout on a small machine.
const DefaultInflightBytes = 8 << 20

// DefaultReadBytes is the read budget when Options leave it zero: the body
// bytes that may be in memory while being received and verified. Bodies
// beyond it wait for their turn (see ReserveRead), so 600 unsigned 1 MiB
// bodies at once cost 8 MiB, not 600.
const DefaultReadBytes = 8 << 20

// ReserveRead reserves n bytes of the read budget before a body of (at
// most) n bytes is read, and waits, first come first served, until they are
// free or ctx ends (then it returns ctx's error). Call release once the body
// is verified (and Admit has taken it over) or refused. Reserving before
// reading bounds the memory that requests nobody has authenticated yet can
// take, whatever their number; waiting instead of refusing lets a signed
// request through in its turn while unsigned ones flood in, since each of
// those holds its bytes only while being read and checked. A request larger
// than the whole budget reserves the whole budget.
func (in *Ingester) ReserveRead(ctx context.Context, n int64) (release func(), err error) {
	in.mu.RLock()
	closed := in.closed
	in.mu.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	n = min(max(n, 1), in.opts.ReadBytes)
	if err := in.reading.Acquire(ctx, n); err != nil {
		return nil, err
	}
	var once sync.Once
	return func() { once.Do(func() { in.reading.Release(n) }) }, nil
}

// BodyBudget is the read budget a request body needs: its declared length
// (Content-Length), or limit when it declares none (chunked) or more.
func BodyBudget(declared, limit int64) int64 {
	if declared > 0 && declared < limit {
		return declared
	}
	return limit
}

// ReserveBody is ReserveRead for an ingest surface's request (the webhook,
// the tracking API): it waits at most the ingester's Timeout for the
// budget, and a wait that ends (or a sender that goes away) is
// ErrOverloaded, answered 503 so the sender retries later. ErrClosed stays.
func (in *Ingester) ReserveBody(ctx context.Context, n int64) (release func(), err error) {
	ctx, cancel := context.WithTimeout(ctx, in.opts.Timeout)
	defer cancel()
	release, err = in.ReserveRead(ctx, n)
	if err != nil && !errors.Is(err, ErrClosed) {
		return nil, ErrOverloaded
	}
	return release, err
}

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
