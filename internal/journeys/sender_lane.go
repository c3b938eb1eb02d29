package journeys

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/store"
)

// lane is one sending goroutine with its own SMTP connection per
// workspace, kept open between passes.
type lane struct {
	s     *sender
	conns map[uuid.UUID]*email.Conn // only the lane's goroutine touches it
}

// run sends jobs until the channel closes.
func (l *lane) run(ctx context.Context, jobs <-chan job, rec *recorder) error {
	for j := range jobs {
		// A job that waited past half its lease may be claimed by another
		// instance soon: leave it to whoever claims it next.
		if time.Since(j.claimed) > lease/2 {
			continue
		}
		if err := l.s.wait(ctx, j.m.WorkspaceID); err != nil {
			return err
		}
		if err := rec.acquire(ctx); err != nil {
			return err
		}
		res := l.deliver(ctx, j.m.WorkspaceID, j.srv, j.msg)
		now := time.Now().UTC()
		o := store.Outcome{Message: j.m, To: j.msg.To, Reply: res.Reply, At: now}
		switch res.Outcome {
		case email.Sent:
			o.Status = "sent"
		case email.Bounced:
			o.Status = "bounced"
		case email.Failed:
			o.Status, o.Reason = "failed", "refused"
		default:
			o = l.s.retry(j.m, j.m.Attempts+1, res.Reply, now)
		}
		rec.add(o)
	}
	return nil
}

// deliver sends over the workspace's open connection, dialing when there
// is none; a connection that broke is dropped and dialed once more.
func (l *lane) deliver(ctx context.Context, ws uuid.UUID, srv email.Server, msg email.Message) email.Result {
	for attempt := 0; attempt < 2; attempt++ {
		c := l.conns[ws]
		if c == nil {
			var err error
			if c, err = email.Dial(ctx, srv); err != nil {
				return email.Result{Outcome: email.Retry, Reply: err.Error()}
			}
			l.conns[ws] = c
		}
		res := c.Send(ctx, msg)
		if res.Outcome == email.Retry && (len(res.Reply) < 1 || res.Reply[0] != '4') {
			// Not an SMTP 4xx: the connection itself failed.
			_ = c.Close()
			delete(l.conns, ws)
			continue
		}
		return res
	}
	return email.Result{Outcome: email.Retry, Reply: "connection failed twice"}
}

func (l *lane) closeAll() {
	for ws, c := range l.conns {
		_ = c.Close()
		delete(l.conns, ws)
	}
}

// recorder commits the lanes' outcomes a group at a time: while one
// transaction commits, the next outcomes gather, so each send is recorded
// within about one commit of the server's acceptance, and a commit costs
// one disk flush for many sends.
type recorder struct {
	s     *sender
	slots chan struct{} // a token per send not recorded yet
	in    chan store.Outcome
	done  chan struct{}
	pass  context.Context // the pass's context: once it ends, a failing record is given up after a while
}

func newRecorder(pass context.Context, s *sender) *recorder {
	r := &recorder{s: s, slots: make(chan struct{}, unrecorded), in: make(chan store.Outcome, unrecorded), done: make(chan struct{}), pass: pass}
	go r.loop()
	return r
}

// acquire takes a slot before a send: at most unrecorded sends are out
// and not recorded at any moment.
func (r *recorder) acquire(ctx context.Context) error {
	select {
	case r.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// add hands over an outcome whose slot was acquired.
func (r *recorder) add(o store.Outcome) { r.in <- o }

func (r *recorder) loop() {
	defer close(r.done)
	// Outcomes of sends the server accepted are recorded even while the
	// pass is being cancelled (a SIGTERM): that is what keeps repeats low.
	ctx := context.Background()
	group := make([]store.Outcome, 0, unrecorded)
	for o := range r.in {
		group = append(group[:0], o)
	gather:
		for len(group) < unrecorded {
			select {
			case o, ok := <-r.in:
				if !ok {
					break gather
				}
				group = append(group, o)
			default:
				break gather
			}
		}
		r.commit(ctx, group)
		for range group {
			<-r.slots
		}
	}
}

// commit records a group, trying again while the database refuses: the
// slots stay taken meanwhile, so the lanes stop sending rather than pile
// up sends nobody recorded. Once the pass is cancelled (shutdown) it gives
// up after giveUp: those sends repeat after their lease, as after a crash.
func (r *recorder) commit(ctx context.Context, group []store.Outcome) {
	const giveUp = 10 * time.Second
	var stopping time.Time
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := r.s.e.st.RecordOutcomes(cctx, group)
		cancel()
		if err == nil {
			return
		}
		if r.pass.Err() != nil {
			if stopping.IsZero() {
				stopping = time.Now()
			} else if time.Since(stopping) > giveUp {
				r.s.e.opts.Logger.Error("recording sent emails failed at shutdown; they will be sent again", "sends", len(group), "err", err)
				return
			}
		}
		r.s.e.opts.Logger.Warn("recording sent emails failed; sending waits", "sends", len(group), "err", err)
		time.Sleep(wait)
	}
}

// close waits until every outcome handed over is recorded.
func (r *recorder) close() {
	close(r.in)
	<-r.done
}
