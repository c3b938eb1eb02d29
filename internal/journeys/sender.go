package journeys

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/store"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// The sender works from the messages outbox as a pipeline: a producer
// claims a batch of due sends (SKIP LOCKED on PostgreSQL), reads what they
// need in a few queries (sender_batch.go) and reserves them; lanes, each
// with its own reused SMTP connection per workspace, send them under the
// workspace's shared rate limit; a recorder commits their outcomes a group
// at a time right after the server accepted DATA (sender_lane.go).
const (
	// lease is how long a claimed send is ours: past it (a crash mid-send)
	// any instance claims it again and repeats it with the same Message-ID.
	lease = time.Minute
	// lanes is how many SMTP connections send at once (per workspace).
	lanes = 8
	// unrecorded bounds the sends the server may have accepted that are not
	// recorded yet: a lane takes a slot before it sends and the recorder
	// frees it once the outcome is committed. A kill -9 repeats at most
	// this many sends; a database that cannot record stops the sending.
	unrecorded = 32
	// batch is how many sends one claim takes.
	batch = 64
)

// sender is the engine's outbox worker; its lanes keep their connections
// from one pass to the next.
type sender struct {
	e      *Engine
	lanes  [lanes]*lane
	passMu sync.Mutex // one pass at a time: the lanes' connections are not shared

	mu     sync.Mutex
	limits map[uuid.UUID]*rate.Limiter
	cache  *passCache // per pass: settings, templates, groups
}

func newSender(e *Engine) *sender {
	s := &sender{e: e, limits: map[uuid.UUID]*rate.Limiter{}}
	for i := range s.lanes {
		s.lanes[i] = &lane{s: s, conns: map[uuid.UUID]*email.Conn{}}
	}
	return s
}

// close ends every lane's connections politely.
func (s *sender) close() {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	for _, l := range s.lanes {
		l.closeAll()
	}
}

// job is one reserved send, rendered, waiting for a lane.
type job struct {
	m       store.Message
	srv     email.Server
	msg     email.Message
	claimed time.Time
}

// pass sends every due message: claims batch after batch until none is
// due, while the lanes send the previous ones.
func (s *sender) pass(ctx context.Context) error {
	s.passMu.Lock()
	defer s.passMu.Unlock()
	// Settings and templates may have changed since the last pass.
	s.mu.Lock()
	s.cache = newPassCache()
	s.mu.Unlock()

	rec := newRecorder(ctx, s)
	jobs := make(chan job, batch)
	g, gctx := errgroup.WithContext(ctx)
	for _, l := range s.lanes {
		g.Go(func() error { return l.run(gctx, jobs, rec) })
	}
	g.Go(func() error {
		defer close(jobs)
		for {
			now := time.Now().UTC()
			ms, err := s.e.st.ClaimMessages(gctx, now, lease, s.claimSize())
			if err != nil || len(ms) == 0 {
				return err
			}
			js, err := s.prepare(gctx, ms, now)
			if err != nil {
				return err
			}
			for _, j := range js {
				select {
				case jobs <- j:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			if len(ms) < s.claimSize() {
				return nil
			}
		}
	})
	err := g.Wait()
	rec.close()
	return err
}

// claimSize keeps a claimed batch well inside its lease under a low
// EMAIL_RATE: at most a quarter of the lease's worth of sends.
func (s *sender) claimSize() int {
	if r := s.e.opts.Rate; r > 0 {
		return max(1, min(batch, r*int(lease/time.Second)/4))
	}
	return batch
}

// backoff is the wait before retry n (1, 2, …): base doubling, at most an hour.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// retry is the outcome of a send the server refused for now: queued again
// with backoff, or failed once MESSAGE_RETRY_FOR has passed since it was
// queued. attempts counts this one.
func (s *sender) retry(m store.Message, attempts int, reply string, now time.Time) store.Outcome {
	if now.Sub(m.CreatedAt) >= s.e.opts.RetryFor {
		return store.Outcome{Message: m, Status: "failed", Reason: "retries_exhausted", Reply: reply, At: now}
	}
	return store.Outcome{Message: m, Status: "queued", Reply: reply, Next: now.Add(backoff(s.e.opts.RetryBase, attempts)), At: now}
}

// wait holds to EMAIL_RATE for the workspace: one token bucket shared by
// every lane, so the rate holds across connections.
func (s *sender) wait(ctx context.Context, ws uuid.UUID) error {
	if s.e.opts.Rate <= 0 {
		return nil
	}
	s.mu.Lock()
	l := s.limits[ws]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.e.opts.Rate), 1)
		s.limits[ws] = l
	}
	s.mu.Unlock()
	if err := l.Wait(ctx); err != nil {
		return fmt.Errorf("email rate: %w", err)
	}
	return nil
}
