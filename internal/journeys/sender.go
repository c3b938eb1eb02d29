package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"
)

// lease is how long a claimed send is ours: past it (a crash mid-send) it
// is claimed again and repeated with the same Message-ID.
const lease = 2 * time.Minute

// senders is how many sends run at once, each over its own reused SMTP
// connection per workspace: at most this many are in flight when the
// process dies (the repeats a kill can cause).
const senders = 4

// sender works from the messages outbox: checks, renders, sends over
// reused connections and records the outcome.
type sender struct {
	e *Engine

	mu      sync.Mutex
	servers map[uuid.UUID]wsSettings
	limits  map[uuid.UUID]*rate.Limiter
	workers [senders]*worker
}

// worker is one sending lane with its own connections.
type worker struct {
	s     *sender
	conns map[uuid.UUID]*email.Conn
}

func newSender(e *Engine) *sender {
	s := &sender{e: e, servers: map[uuid.UUID]wsSettings{}, limits: map[uuid.UUID]*rate.Limiter{}}
	for i := range s.workers {
		s.workers[i] = &worker{s: s, conns: map[uuid.UUID]*email.Conn{}}
	}
	return s
}

func (s *sender) close() {
	for _, w := range s.workers {
		for ws, c := range w.conns {
			_ = c.Close()
			delete(w.conns, ws)
		}
	}
}

// pass sends every due message, a claimed batch at a time, split over the
// workers.
func (s *sender) pass(ctx context.Context) error {
	// Settings may have changed since the last pass: look them up again.
	s.mu.Lock()
	clear(s.servers)
	s.mu.Unlock()
	const batch = 100
	for {
		ms, err := s.e.st.ClaimMessages(ctx, time.Now().UTC(), lease, batch)
		if err != nil || len(ms) == 0 {
			return err
		}
		var g errgroup.Group
		for i, w := range s.workers {
			g.Go(func() error {
				for j := i; j < len(ms); j += senders {
					if err := w.one(ctx, ms[j]); err != nil {
						return fmt.Errorf("send %s: %w", ms[j].SendKey, err)
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil || len(ms) < batch {
			return err
		}
	}
}

// backoff is the wait before retry n (1, 2, …): base doubling, at most an hour.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

func (w *worker) skip(ctx context.Context, m store.Message, reason, to string) error {
	return w.s.e.st.FinishMessage(ctx, m, "skipped", reason, to, "", time.Now().UTC())
}

func (w *worker) one(ctx context.Context, m store.Message) error {
	s := w.s
	st, ws := s.e.st, m.WorkspaceID
	if erased, err := profiles.IsSuppressed(ctx, st, ws, store.IdentityUser, m.UserID); err != nil {
		return err
	} else if erased {
		return w.skip(ctx, m, "erased", "")
	}
	tpl, err := st.EmailTemplate(ctx, ws, m.Template)
	if errors.Is(err, store.ErrNotFound) {
		return st.FinishMessage(ctx, m, "failed", "template_missing", "", "", time.Now().UTC())
	}
	if err != nil {
		return err
	}
	if m.Group != "" {
		ok, err := s.subscribed(ctx, ws, m.UserID, m.Group)
		if err != nil {
			return err
		}
		if !ok {
			return w.skip(ctx, m, "unsubscribed", "")
		}
	}
	v, err := profiles.Find(ctx, st, ws, store.IdentityUser, m.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return w.skip(ctx, m, "no_email", "")
	}
	if err != nil {
		return err
	}
	to := address(v.Traits["email"])
	if to == "" {
		return w.skip(ctx, m, "no_email", "")
	}
	if bounced, err := st.Bounced(ctx, ws, to); err != nil {
		return err
	} else if bounced {
		return w.skip(ctx, m, "bounced", to)
	}
	set, err := s.settings(ctx, ws)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if !set.srv.Configured() {
		return s.retry(ctx, m, "no SMTP server or From address configured", now)
	}
	capN := 0
	if m.Group != "" && !tpl.Transactional {
		capN = set.capping.N // transactional mail is never capped
	}
	if ok, err := st.ReserveSend(ctx, m, to, capN, set.capping.Period, now); err != nil || !ok {
		return err
	}
	var event map[string]any
	if raw, err := st.InstanceEvent(ctx, m.InstanceID); err != nil {
		return err
	} else if raw != "" {
		_ = json.Unmarshal([]byte(raw), &event)
	}
	unsub := ""
	if m.Group != "" && !tpl.Transactional {
		if unsub, err = s.e.email.UnsubscribeURL(ctx, ws, m.UserID, m.Group); err != nil {
			return err
		}
	}
	out, err := email.Render(email.Template{Subject: tpl.Subject, HTML: tpl.HTML, Text: tpl.Text}, email.Vars(m.UserID, v.Traits, event, "", unsub))
	if err != nil {
		return st.FinishMessage(ctx, m, "failed", "render", to, err.Error(), now)
	}
	if err := s.wait(ctx, ws); err != nil {
		return err
	}
	res := w.deliver(ctx, ws, set.srv, email.Message{To: to, Subject: out.Subject, HTML: out.HTML, Text: out.Text,
		ID: m.SendKey + "@inlet", Unsubscribe: unsub})
	now = time.Now().UTC()
	switch res.Outcome {
	case email.Sent:
		return st.FinishMessage(ctx, m, "sent", "", to, res.Reply, now)
	case email.Bounced:
		return st.FinishMessage(ctx, m, "bounced", "", to, res.Reply, now)
	case email.Failed:
		return st.FinishMessage(ctx, m, "failed", "refused", to, res.Reply, now)
	}
	return s.retry(ctx, m, res.Reply, now)
}

// wsSettings is a workspace's effective SMTP server and cap.
type wsSettings struct {
	srv     email.Server
	capping config.FrequencyCap
}

// settings reads a workspace's settings once per pass.
func (s *sender) settings(ctx context.Context, ws uuid.UUID) (wsSettings, error) {
	s.mu.Lock()
	set, ok := s.servers[ws]
	s.mu.Unlock()
	if ok {
		return set, nil
	}
	srv, fc, err := s.e.email.Effective(ctx, ws)
	if err != nil {
		return wsSettings{}, err
	}
	set = wsSettings{srv: srv, capping: fc}
	s.mu.Lock()
	s.servers[ws] = set
	s.mu.Unlock()
	return set, nil
}

// retry queues m again with backoff, or fails it once MESSAGE_RETRY_FOR
// has passed since it was queued.
func (s *sender) retry(ctx context.Context, m store.Message, reply string, now time.Time) error {
	if now.Sub(m.CreatedAt) >= s.e.opts.RetryFor {
		return s.e.st.FinishMessage(ctx, m, "failed", "retries_exhausted", "", reply, now)
	}
	return s.e.st.RetryMessage(ctx, m, reply, now.Add(backoff(s.e.opts.RetryBase, m.Attempts)), now)
}

// deliver sends over the workspace's open connection, dialing when there
// is none; a connection that broke is dropped and dialed once more.
func (w *worker) deliver(ctx context.Context, ws uuid.UUID, srv email.Server, msg email.Message) email.Result {
	for attempt := 0; attempt < 2; attempt++ {
		c := w.conns[ws]
		if c == nil {
			var err error
			if c, err = email.Dial(ctx, srv); err != nil {
				return email.Result{Outcome: email.Retry, Reply: err.Error()}
			}
			w.conns[ws] = c
		}
		res := c.Send(ctx, msg)
		if res.Outcome == email.Retry && (len(res.Reply) < 1 || res.Reply[0] != '4') {
			// Not an SMTP 4xx: the connection itself failed.
			_ = c.Close()
			delete(w.conns, ws)
			continue
		}
		return res
	}
	return email.Result{Outcome: email.Retry, Reply: "connection failed twice"}
}

// wait holds to EMAIL_RATE for the workspace.
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
	return l.Wait(ctx)
}

// subscribed is the user's choice for the group, else the group's default.
func (s *sender) subscribed(ctx context.Context, ws uuid.UUID, userID, group string) (bool, error) {
	subs, err := s.e.st.Subscriptions(ctx, ws, userID)
	if err != nil {
		return false, err
	}
	for _, sub := range subs {
		if sub.Group == group {
			return sub.Subscribed, nil
		}
	}
	g, err := s.e.st.SubscriptionGroup(ctx, ws, group)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil // a deleted group sends nothing
	}
	if err != nil {
		return false, err
	}
	return !g.OptIn, nil
}

// address is a trait value that is one valid email address, else "".
func address(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return ""
	}
	return s
}
