package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/store"
)

// Observer counts attempts (metrics). outcome is one of delivered, retrying,
// failed (given up) or paused; status is the HTTP status, 0 for no answer.
type Observer interface {
	DestinationAttempt(outcome string, status int, took time.Duration)
}

// Options tune a Manager; zero values take the defaults noted.
type Options struct {
	Owner       string        // this instance's lease name; default hostname + random
	Concurrency int           // requests in flight per destination (DESTINATION_CONCURRENCY), 32
	Window      int           // events read from the feed per step, 1000
	Timeout     time.Duration // per attempt (DESTINATION_TIMEOUT), 15s
	Retry       Policy
	LeaseTTL    time.Duration // 15s: how long a killed instance's destinations wait for another
	Poll        time.Duration // wait when there is nothing to send, 250ms
	Rescan      time.Duration // how often unclaimed destinations are looked for, 2s
	ProbeMin    time.Duration // an open circuit's first wait between probes, 0.5s
	ProbeMax    time.Duration // its longest wait, 20s
	Guard       *NetGuard
	Observer    Observer
	// Suppressed, optional, reports an event of an erased (suppressed)
	// person; such events are never sent (see erased.go).
	Suppressed SuppressedFunc
	Logger     *slog.Logger
	Version    string
	// Signal, when set, is told what the manager and its workers just
	// decided, so a test can wait for "the worker looked and sent nothing"
	// instead of sleeping (river's testsignal pattern). Nil in production.
	Signal func(Signal)
}

// SignalKind names what a Signal reports.
type SignalKind int

const (
	// SignalStep: a worker finished a step without error; Worked says
	// whether it had anything to send.
	SignalStep SignalKind = iota + 1
	// SignalStopped: a worker returned (paused, deleted, lease lost, closed).
	SignalStopped
	// SignalScanned: the manager looked for destinations to work.
	SignalScanned
)

// Signal is one decision reported to Options.Signal.
type Signal struct {
	Kind        SignalKind
	Destination uuid.UUID // zero for SignalScanned
	Worked      bool
}

func (m *Manager) signal(s Signal) {
	if m.opts.Signal != nil {
		m.opts.Signal(s)
	}
}

func (o Options) withDefaults() Options {
	if o.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Owner = host + "-" + hex.EncodeToString(b)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Window <= 0 {
		o.Window = 1000
	}
	o.Window = min(o.Window, store.MaxFeedBatch)
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 15 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 250 * time.Millisecond
	}
	if o.Rescan <= 0 {
		o.Rescan = 2 * time.Second
	}
	if o.ProbeMin <= 0 {
		o.ProbeMin = circuitMinBackoff
	}
	if o.ProbeMax < o.ProbeMin {
		o.ProbeMax = max(circuitMaxBackoff, o.ProbeMin)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Retry = o.Retry.withDefaults()
	return o
}

// Manager runs the delivery workers of one instance: it claims the lease of
// every active destination nobody else works and runs one worker per
// claimed destination, each with its own bounded concurrency, so a slow or
// dead receiver holds back only its own destination.
type Manager struct {
	st     *store.Store
	opts   Options
	sender *Sender

	mu      sync.Mutex
	running map[uuid.UUID]context.CancelFunc
	run     *lifecycle.Group // the scan loop and every destination's worker
}

// New prepares a Manager; Start runs it.
func New(st *store.Store, opts Options) *Manager {
	opts = opts.withDefaults()
	return &Manager{
		st: st, opts: opts,
		sender:  NewSender(opts.Guard, opts.Timeout, opts.Concurrency, opts.Version),
		running: map[uuid.UUID]context.CancelFunc{},
	}
}

// Sender is the manager's HTTP sender (the dashboard's test event uses it).
func (m *Manager) Sender() *Sender { return m.sender }

// Start looks for destinations to work until Close.
func (m *Manager) Start(ctx context.Context) {
	m.run = lifecycle.New(ctx, "delivery workers")
	m.run.Go(func(ctx context.Context) {
		t := time.NewTicker(m.opts.Rescan)
		defer t.Stop()
		for {
			m.scan(ctx)
			m.signal(Signal{Kind: SignalScanned})
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}

// Close stops every worker and releases their leases so another instance
// takes over at once; what was in flight is sent again from the cursor.
func (m *Manager) Close(ctx context.Context) error {
	return m.run.Stop(ctx)
}

func (m *Manager) scan(ctx context.Context) {
	ds, err := m.st.ActiveDestinations(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.opts.Logger.Warn("delivery: cannot list destinations", "err", err)
		}
		return
	}
	for _, d := range ds {
		m.mu.Lock()
		_, busy := m.running[d.ID]
		m.mu.Unlock()
		if busy {
			continue
		}
		ok, err := m.st.ClaimDestination(ctx, d.ID, m.opts.Owner, time.Now(), m.opts.LeaseTTL)
		if err != nil || !ok {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		m.mu.Lock()
		m.running[d.ID] = cancel
		m.mu.Unlock()
		id := d.ID
		end := func() {
			cancel()
			m.mu.Lock()
			delete(m.running, id)
			m.mu.Unlock()
		}
		// The worker runs in the manager's group, so Close waits for it;
		// its own context lets it end alone when its lease is lost.
		started := m.run.Go(func(context.Context) {
			defer end()
			w := &worker{m: m, id: id}
			w.run(wctx)
			m.signal(Signal{Kind: SignalStopped, Destination: id})
		})
		if !started { // closing: the unused lease expires on its own
			end()
		}
	}
}

// worker delivers one destination while this instance holds its lease.
type worker struct {
	m  *Manager
	id uuid.UUID
	d  store.Destination

	leaseUntil time.Time // by this instance's clock; only the lease keeper uses it
	circ       *circuit  // open while the receiver is down: probes instead of sends
}

func (w *worker) log() *slog.Logger { return w.m.opts.Logger.With("destination", w.id) }

func (w *worker) run(ctx context.Context) {
	o := w.m.opts
	w.leaseUntil = time.Now().Add(o.LeaseTTL)
	if err := w.reload(ctx); err != nil {
		w.log().Warn("delivery: cannot load destination", "err", err)
		return
	}
	w.circ = newCircuit(w.d.Circuit, o.ProbeMin, o.ProbeMax)
	// The lease keeper renews the lease while steps run (a step against a
	// slow receiver can outlast it) and stops the worker when it is lost.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	var kept sync.WaitGroup
	kept.Add(1)
	go func() { defer kept.Done(); w.keepLease(sctx, stop) }()
	defer func() {
		stop()
		kept.Wait()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = w.m.st.ReleaseDestination(rctx, w.id, o.Owner)
	}()

	dbBackoff := time.Duration(0)
	lastReload := time.Now()
	for sctx.Err() == nil {
		if time.Since(lastReload) > o.LeaseTTL/3 {
			// Pause, rotation, URL or type changes made on any instance.
			if err := w.reload(sctx); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return
				}
			} else if w.d.Paused {
				return
			}
			lastReload = time.Now()
		}
		worked, err := w.step(sctx)
		switch {
		case errors.Is(err, store.ErrLeaseLost), errors.Is(err, errPaused), errors.Is(err, errDeleted):
			return
		case err != nil:
			if sctx.Err() != nil {
				return
			}
			dbBackoff = min(max(2*dbBackoff, 250*time.Millisecond), 5*time.Second)
			w.log().Warn("delivery step failed; events will be sent again from the cursor", "err", err, "retry_in", dbBackoff)
			sleep(sctx, dbBackoff)
			continue
		}
		dbBackoff = 0
		w.m.signal(Signal{Kind: SignalStep, Destination: w.id, Worked: worked})
		if !worked {
			sleep(sctx, o.Poll)
		}
	}
}

// keepLease renews the lease every third of its life; when it is taken or
// cannot be renewed before it runs out, it stops the worker.
func (w *worker) keepLease(ctx context.Context, stop context.CancelFunc) {
	o := w.m.opts
	t := time.NewTicker(o.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now()
		ok, err := w.m.st.ClaimDestination(ctx, w.id, o.Owner, now, o.LeaseTTL)
		switch {
		case err == nil && ok:
			w.leaseUntil = now.Add(o.LeaseTTL)
		case err == nil && !ok:
			stop() // paused, deleted or taken over
			return
		case time.Now().After(w.leaseUntil.Add(-o.LeaseTTL / 6)):
			w.log().Warn("delivery: lease could not be renewed; stopping this destination's worker", "err", err)
			stop()
			return
		}
	}
}

// signingSecrets reads the destination's row now, so a rotation saved on
// any instance signs from the next attempt on, and a pause or a delete stops
// sending at once; when the read fails the secrets last read keep signing.
func (w *worker) signingSecrets(ctx context.Context) ([]string, error) {
	d, err := w.m.st.DestinationByID(ctx, w.id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, errDeleted
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		w.log().Warn("delivery: cannot re-read the signing secrets; signing with those read before", "err", err)
		return w.d.SigningSecrets(time.Now()), nil
	case d.Paused:
		return nil, errPaused
	}
	w.d.Secret, w.d.PreviousSecret, w.d.PreviousExpiresAt = d.Secret, d.PreviousSecret, d.PreviousExpiresAt
	return w.d.SigningSecrets(time.Now()), nil
}

// refreshAudienceChoice re-reads whether the destination takes audience
// events when the batch holds some, so a change on the destination's page
// applies from the next batch on any instance (batches without them pay
// nothing).
func (w *worker) refreshAudienceChoice(ctx context.Context, evs []store.FeedEvent) error {
	for _, e := range evs {
		if e.Source == "audiences" {
			d, err := w.m.st.DestinationByID(ctx, w.id)
			if err != nil {
				return fmt.Errorf("destination %s: %w", w.id, err)
			}
			w.d.SkipAudienceEvents = d.SkipAudienceEvents
			return nil
		}
	}
	return nil
}

func (w *worker) reload(ctx context.Context) error {
	d, err := w.m.st.DestinationByID(ctx, w.id)
	if err != nil {
		return err
	}
	w.d = d
	return nil
}

var (
	errPaused  = errors.New("destination paused")
	errDeleted = errors.New("destination deleted")
)

// item is one event to send in a step.
type item struct {
	eventID   int64
	messageID string
	typ       string
	raw       []byte
	attempts  int        // made before this one
	retry     bool       // from the retry table (a row to drop once delivered)
	first     *time.Time // first failure, nil if none yet
	res       Result
	ids       eventIDs // the event's userId, anonymousId, previousId
	skip      bool     // an erased person's event: not sent, not retried
}

// step sends what is due: retries first, then the next window of the feed;
// while the circuit is open, only a probe. It reports whether there was
// anything to do.
func (w *worker) step(ctx context.Context) (bool, error) {
	o := w.m.opts
	now := time.Now()
	if w.circ.open() {
		return w.probe(ctx, now)
	}
	due, err := w.m.st.DueRetries(ctx, w.d, now, o.Window)
	if err != nil {
		return false, err
	}
	worked := false
	if len(due) > 0 {
		worked = true
		if err := w.sendRetries(ctx, due); err != nil {
			return true, err
		}
		if w.circ.open() {
			return true, nil // the feed stays ahead of the cursor until a probe succeeds
		}
	}
	evs, err := w.m.st.ReadFeed(ctx, w.d.WorkspaceID, w.d.Cursor, o.Window)
	if err != nil {
		return worked, err
	}
	if len(evs) == 0 {
		return worked, nil
	}
	if err := w.refreshAudienceChoice(ctx, evs); err != nil {
		return worked, err
	}
	items := make([]*item, 0, len(evs))
	for _, e := range evs {
		if w.d.WantsEvent(e.Type, e.Source) && !store.IsTestEvent(e.MessageID) { // a test event is not forwarded
			items = append(items, &item{eventID: e.Cursor.ID, messageID: e.MessageID, typ: e.Type, raw: e.Raw,
				ids: eventIDs{e.UserID, e.AnonymousID, e.PreviousID}})
		}
	}
	cursor := evs[len(evs)-1].Cursor
	return true, w.sendFeed(ctx, items, cursor)
}

// secretRefresh bounds how long a long window keeps signing with secrets
// read before a rotation was saved.
const secretRefresh = 250 * time.Millisecond

// send runs the attempts with at most Concurrency in flight. It sends
// nothing (errPaused, errDeleted) once the destination was paused or
// deleted, on any instance: the step then records nothing and the events
// stay where they were.
func (w *worker) send(ctx context.Context, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	// The secrets are read after the events: an event committed after a
	// rotation was saved (on any instance) is signed with both secrets.
	secrets, err := w.signingSecrets(ctx)
	if err != nil {
		return err
	}
	loaded := time.Now()
	sem := make(chan struct{}, w.m.opts.Concurrency)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		if time.Since(loaded) > secretRefresh {
			if fresh, err := w.signingSecrets(ctx); err == nil {
				secrets, loaded = fresh, time.Now()
			}
		}
		sec := secrets // each attempt keeps the secrets it started with; the loop may refresh them
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if it.skip || w.suppressed(ctx, it) {
				it.skip = true
				return
			}
			it.res = w.m.sender.Send(ctx, w.d.URL, sec, WebhookID(w.d.ID, it.messageID), it.raw)
		}()
	}
	wg.Wait()
	return nil
}

// maxDeliveredRecords bounds the successful attempts recorded per step (every
// failure is recorded): the page needs recent ones, not one row per event.
const maxDeliveredRecords = 20

func (w *worker) sendFeed(ctx context.Context, items []*item, cursor store.FeedCursor) error {
	if err := w.dropErased(ctx, items); err != nil {
		return err
	}
	if err := w.send(ctx, items); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err() // nothing recorded: the window is sent again from the cursor
	}
	p := w.progress()
	p.Cursor = &cursor
	w.account(&p, items)
	if w.circ.afterBatch(sentOnly(items), p.Now) { // an erased person's skipped event says nothing of the receiver
		p.Circuit = w.circ.saved()
		w.log().Warn("delivery: receiver down; circuit open, probing with one event at a time", "reason", w.circ.state.Reason)
	}
	if err := w.m.st.SaveDeliveryProgress(ctx, p); err != nil {
		return err
	}
	w.d.Cursor = cursor
	return w.pauseIfGone(ctx, sentOnly(items))
}

func (w *worker) sendRetries(ctx context.Context, due []store.PendingEvent) error {
	p := w.progress()
	items := make([]*item, 0, len(due))
	for _, e := range due {
		if e.Gone {
			p.Done = append(p.Done, e.EventID)
			continue
		}
		items = append(items, &item{eventID: e.EventID, messageID: e.MessageID, typ: e.Type, raw: e.Raw,
			attempts: e.Attempts, first: e.FirstFailedAt, retry: true, ids: eventIDs{e.UserID, e.AnonymousID, e.PreviousID}})
	}
	if err := w.dropErased(ctx, items); err != nil {
		return err
	}
	if err := w.send(ctx, items); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	w.account(&p, items)
	if w.circ.afterBatch(sentOnly(items), p.Now) { // an erased person's skipped event says nothing of the receiver
		p.Circuit = w.circ.saved()
		w.log().Warn("delivery: receiver down; circuit open, probing with one event at a time", "reason", w.circ.state.Reason)
	}
	if err := w.m.st.SaveDeliveryProgress(ctx, p); err != nil {
		return err
	}
	return w.pauseIfGone(ctx, sentOnly(items))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
