// Package ingest is the write path. Requests hand it verified events and wait;
// writer goroutines gather whatever has queued up and commit it in one
// transaction (group commit), then answer every waiting request. A request is
// answered "stored" only after its commit, and "try again" when the bounded
// queue is full, the database fails, or the commit takes too long.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/store"
	"golang.org/x/sync/semaphore"
)

var (
	// ErrOverloaded means the queue is full; the caller should retry later.
	ErrOverloaded = errors.New("ingest queue is full")
	// ErrUnavailable means the database could not commit in time.
	ErrUnavailable = errors.New("database unavailable")
	// ErrClosed means Inlet is shutting down.
	ErrClosed = errors.New("shutting down")
	// ErrRejected means the database refused these events' values; retrying the
	// same bytes cannot succeed.
	ErrRejected = errors.New("events refused by the database")
)

// Inserter is the part of the store the ingester needs.
type Inserter interface {
	InsertEvents(ctx context.Context, events []store.NewEvent) ([]bool, error)
	// InsertEventsFirstNew stores events only if events[0] is new (or all
	// of them are already stored); see store.InsertEventsFirstNew.
	InsertEventsFirstNew(ctx context.Context, events []store.NewEvent) ([]bool, error)
}

// Observer receives figures for metrics; every method must be cheap.
type Observer interface {
	Committed(events, requests int, took time.Duration, err error)
}

// Options size the ingester.
type Options struct {
	QueueRequests int           // requests that may wait at once
	QueueBytes    int64         // raw event bytes that may wait at once
	InflightBytes int64         // request bytes admitted at once (see Admit)
	ReadBytes     int64         // body bytes being read and verified at once (see ReserveRead)
	BatchEvents   int           // most events per group commit
	Writers       int           // concurrent group commits
	Timeout       time.Duration // longest a request waits, and a commit may take
	Observer      Observer
	// Suppress, optional, drops the events of erased (suppressed) ids from a
	// request before it is queued and says how many it dropped; they are
	// answered as suppressed, not stored.
	Suppress func(ctx context.Context, events []store.NewEvent, firstNew bool) ([]store.NewEvent, int)
}

// Result is what a stored request reports back.
type Result struct {
	Accepted   int
	Duplicates int
	Suppressed int // events of erased (suppressed) ids: acknowledged, not stored
}

type request struct {
	events   []store.NewEvent
	firstNew bool // element-0-signed: store only if events[0] is new
	bytes    int64
	done     chan outcome // buffered: the writer never blocks on a caller that gave up
	state    atomic.Int32 // queued → taken by a writer, or queued → abandoned by its caller
}

const (
	queued int32 = iota
	taken
	abandoned
)

type outcome struct {
	res Result
	err error
}

// Ingester is safe for concurrent use.
type Ingester struct {
	db       Inserter
	opts     Options
	queue    chan *request
	queued   atomic.Int64 // raw bytes waiting
	inflight atomic.Int64 // request bytes admitted and not yet answered
	reading  *semaphore.Weighted
	mu       sync.RWMutex // guards closed against sends racing Close
	closed   bool
	run      *lifecycle.Group // the writers
}

// New starts the writers.
func New(db Inserter, opts Options) *Ingester {
	if opts.QueueRequests <= 0 {
		opts.QueueRequests = 2048
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = 64 << 20
	}
	if opts.InflightBytes <= 0 {
		opts.InflightBytes = DefaultInflightBytes
	}
	if opts.ReadBytes <= 0 {
		opts.ReadBytes = DefaultReadBytes
	}
	if opts.BatchEvents <= 0 {
		opts.BatchEvents = 1000
	}
	if opts.Writers <= 0 {
		opts.Writers = 2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	in := &Ingester{db: db, opts: opts, queue: make(chan *request, opts.QueueRequests), reading: semaphore.NewWeighted(opts.ReadBytes)}
	// The writers ignore the group's context: Close closes the queue and
	// they end once they have committed what it held.
	in.run = lifecycle.New(context.Background(), "ingest: queue not drained")
	for range opts.Writers {
		in.run.Go(func(context.Context) { in.writer() })
	}
	return in
}

// QueueDepth is the number of requests waiting for a writer.
func (in *Ingester) QueueDepth() int { return len(in.queue) }

// Submit stores events and returns once they are committed, or with an error
// saying why they were not (they may still be committed later; the caller's
// retry is then a harmless duplicate).
func (in *Ingester) Submit(ctx context.Context, events []store.NewEvent) (Result, error) {
	return in.submit(ctx, events, false)
}

// SubmitFirstNew is Submit for a request whose signature covers only
// events[0] (Segment's Webhooks (Actions) batching): it is stored only if
// events[0] was not stored before, or answered as all duplicates when it is
// an exact retry. Otherwise it fails with ErrFirstElementStored, nothing
// stored, so one captured signed event cannot carry new events twice.
func (in *Ingester) SubmitFirstNew(ctx context.Context, events []store.NewEvent) (Result, error) {
	return in.submit(ctx, events, true)
}

// ErrFirstElementStored: see SubmitFirstNew.
var ErrFirstElementStored = store.ErrFirstElementStored

func (in *Ingester) submit(ctx context.Context, events []store.NewEvent, firstNew bool) (Result, error) {
	var suppressed int
	if in.opts.Suppress != nil && len(events) > 0 {
		events, suppressed = in.opts.Suppress(ctx, events, firstNew)
	}
	if len(events) == 0 {
		return Result{Suppressed: suppressed}, nil
	}
	res, err := in.queueAndWait(ctx, events, firstNew)
	res.Suppressed += suppressed
	return res, err
}

func (in *Ingester) queueAndWait(ctx context.Context, events []store.NewEvent, firstNew bool) (Result, error) {
	var size int64
	for i := range events {
		size += int64(len(events[i].Raw))
	}
	req := &request{events: events, firstNew: firstNew, bytes: size, done: make(chan outcome, 1)}

	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return Result{}, ErrClosed
	}
	// A lone request larger than the byte budget still gets in when nothing
	// else waits; otherwise it could never be stored.
	if total := in.queued.Add(size); total > in.opts.QueueBytes && total != size {
		in.queued.Add(-size)
		in.mu.RUnlock()
		return Result{}, ErrOverloaded
	}
	select {
	case in.queue <- req:
	default:
		in.queued.Add(-size)
		in.mu.RUnlock()
		return Result{}, ErrOverloaded
	}
	in.mu.RUnlock()

	timer := time.NewTimer(in.opts.Timeout)
	defer timer.Stop()
	select {
	case o := <-req.done:
		return o.res, o.err
	case <-timer.C:
	case <-ctx.Done():
	}
	// Gave up waiting. If no writer has taken the request yet, none will:
	// under overload the writers spend their commits on requests whose
	// senders are still waiting, not on ones already answered 503.
	req.state.CompareAndSwap(queued, abandoned)
	return Result{}, ErrUnavailable
}

// Close stops taking requests and commits everything already queued, waiting
// at most until ctx ends.
func (in *Ingester) Close(ctx context.Context) error {
	in.mu.Lock()
	if !in.closed {
		in.closed = true
		close(in.queue)
	}
	in.mu.Unlock()
	return in.run.Stop(ctx)
}

func (in *Ingester) writer() {
	for first := range in.queue {
		if !in.take(first) {
			continue
		}
		batch := []*request{first}
		n := len(first.events)
		// Take whatever queued while the last commit ran: that is the group.
	gather:
		for n < in.opts.BatchEvents {
			select {
			case r, ok := <-in.queue:
				if !ok {
					break gather
				}
				if in.take(r) {
					batch = append(batch, r)
					n += len(r.events)
				}
			default:
				break gather
			}
		}
		in.commit(batch, n)
	}
}

// take claims a queued request for a commit, or drops it when its caller
// has already given up.
func (in *Ingester) take(r *request) bool {
	if r.state.CompareAndSwap(queued, taken) {
		return true
	}
	in.queued.Add(-r.bytes)
	return false
}

func (in *Ingester) commit(batch []*request, n int) {
	var bytes int64
	for _, r := range batch {
		bytes += r.bytes
	}
	defer in.queued.Add(-bytes)

	// Element-0-signed requests each need their own transaction (their
	// first event decides whether the rest may go in); the others share one.
	group := batch[:0:0]
	for _, r := range batch {
		if r.firstNew {
			in.commitOne(r)
			n -= len(r.events)
			continue
		}
		group = append(group, r)
	}
	batch = group
	if len(batch) == 0 {
		return
	}
	all := make([]store.NewEvent, 0, n)
	for _, r := range batch {
		all = append(all, r.events...)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), in.commitTimeout(len(all)))
	fresh, err := in.db.InsertEvents(ctx, all)
	cancel()
	if in.opts.Observer != nil {
		in.opts.Observer.Committed(len(all), len(batch), time.Since(start), err)
	}
	if err != nil && len(batch) > 1 && store.IsDataError(err) {
		// One request's values poisoned the group: commit each alone so the
		// others are not refused with it.
		slog.Warn("group commit refused by database, retrying requests one by one", "requests", len(batch), "err", err)
		for _, r := range batch {
			in.commitOne(r)
		}
		return
	}
	if err != nil {
		slog.Warn("group commit failed", "events", len(all), "requests", len(batch), "err", err)
		for _, r := range batch {
			r.done <- outcome{err: classify(err)}
		}
		return
	}
	off := 0
	for _, r := range batch {
		var res Result
		for _, ok := range fresh[off : off+len(r.events)] {
			if ok {
				res.Accepted++
			} else {
				res.Duplicates++
			}
		}
		off += len(r.events)
		r.done <- outcome{res: res}
	}
}

func (in *Ingester) commitOne(r *request) {
	ctx, cancel := context.WithTimeout(context.Background(), in.commitTimeout(len(r.events)))
	defer cancel()
	insert := in.db.InsertEvents
	if r.firstNew {
		insert = in.db.InsertEventsFirstNew
	}
	fresh, err := insert(ctx, r.events)
	if err != nil {
		r.done <- outcome{err: classify(err)}
		return
	}
	var res Result
	for _, ok := range fresh {
		if ok {
			res.Accepted++
		} else {
			res.Duplicates++
		}
	}
	r.done <- outcome{res: res}
}

// commitTimeout bounds one commit so a hung database frees the writer. It
// grows with the commit's size: a very large request whose commit is cut off
// at the caller's deadline would be refused the same way on every retry,
// while one allowed to finish turns Segment's retry into a quick duplicate.
func (in *Ingester) commitTimeout(events int) time.Duration {
	return in.opts.Timeout + time.Duration(events)*50*time.Microsecond
}

func classify(err error) error {
	if errors.Is(err, store.ErrFirstElementStored) {
		return err
	}
	if store.IsDataError(err) {
		return errors.Join(ErrRejected, err)
	}
	return errors.Join(ErrUnavailable, err)
}
