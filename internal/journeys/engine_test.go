package journeys_test

import (
	"context"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

type fixture struct {
	t      *testing.T
	st     *store.Store
	ws     store.Workspace
	mailer *smtptest.Server
	svc    *email.Service
}

func newFixture(t *testing.T, st *store.Store, capping config.FrequencyCap) *fixture {
	t.Helper()
	ctx := context.Background()
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, st: st, ws: ws, mailer: smtptest.Start(t)}
	f.svc = &email.Service{Store: st, BaseURL: "http://inlet.test", Defaults: email.Defaults{
		SMTP:     config.SMTP{Host: f.mailer.Host, Port: f.mailer.Port, TLSMode: config.TLSNone},
		FromName: "Shop", FromAddress: "shop@example.com", FrequencyCap: capping}}
	// A user with an address, as the profile follower keeps it.
	f.event("id1", "identify", "", `"traits":{"email":"ann@example.com"}`)
	if _, err := profiles.NewFollower(st, profiles.Options{}).CatchUp(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	for _, tpl := range []store.EmailTemplate{{Key: "t", Subject: "Hello", HTML: "<p>Hi</p>"},
		{Key: "receipt", Subject: "Receipt", Text: "Thanks", Transactional: true}} {
		if _, err := st.CreateEmailTemplate(ctx, ws.ID, tpl); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.CreateSubscriptionGroup(ctx, ws.ID, store.SubscriptionGroup{Key: "g", Name: "G"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) event(id, typ, name, extra string) {
	f.t.Helper()
	now := time.Now().UTC()
	raw := `{"type":"` + typ + `","messageId":"` + id + `","userId":"u1","event":"` + name + `",` + extra + `}`
	if _, err := f.st.InsertEvents(context.Background(), []store.NewEvent{{WorkspaceID: f.ws.ID, MessageID: id, Type: typ, Event: name,
		UserID: "u1", Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: []byte(raw)}}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) journey(def string) {
	f.t.Helper()
	ctx := context.Background()
	d, err := journeys.Parse([]byte(def))
	if err != nil {
		f.t.Fatal(err)
	}
	if err := journeys.Check(ctx, f.st, f.ws.ID, d); err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.CreateJourney(ctx, f.ws.ID, d.Key, def, true); err != nil {
		f.t.Fatal(err)
	}
	if err := journeys.Prime(ctx, f.st, f.ws.ID); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) engine(opts journeys.Options) *journeys.Engine {
	opts.Poll = 50 * time.Millisecond
	e := journeys.New(f.st, f.svc, opts)
	e.Start(context.Background())
	f.t.Cleanup(e.Close)
	return e
}

func (f *fixture) messages(status string) []store.Message {
	f.t.Helper()
	ms, err := f.st.Messages(context.Background(), f.ws.ID, store.MessageFilter{Status: status, Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return ms
}

func eventually(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	testutil.WaitWithin(t, d, "the expected state", cond)
}

// A wait lives in the database: an engine stopped while an instance waits
// loses nothing; the next one fires it on time, once.
func TestWaitSurvivesRestart(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},"steps":[{"id":"w","wait":"2s"},{"id":"m","email":{"template":"t","group":"g"}}]}`)
		first := f.engine(journeys.Options{})
		f.event("e1", "track", "Go", `"properties":{}`)
		var entered time.Time
		eventually(t, 10*time.Second, func() bool {
			ins, _ := st.UserJourneys(context.Background(), f.ws.ID, "u1", 10)
			if len(ins) == 1 && ins[0].StepID == "w" {
				entered = ins[0].EnteredAt
				return true
			}
			return false
		})
		first.Close()
		if f.mailer.Count() != 0 {
			t.Fatal("sent before the wait was over")
		}
		second := f.engine(journeys.Options{})
		m := f.mailer.WaitFor(t, 1, 10*time.Second)[0]
		late := time.Since(entered) - 2*time.Second
		if late < 0 || late > testdb.Patience(2*time.Second) {
			t.Errorf("fired %s after its due time, want within 2 s", late)
		}
		if m.Msg.Header.Get("Subject") != "Hello" {
			t.Errorf("subject %q", m.Msg.Header.Get("Subject"))
		}
		eventually(t, 10*time.Second, func() bool { return len(f.messages("sent")) == 1 })
		// More passes change nothing: the step ran once.
		for range 3 {
			if err := second.Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.mailer.Count(); n != 1 || len(f.messages("sent")) != 1 {
			t.Errorf("%d emails, %d logged sent; want 1", n, len(f.messages("sent")))
		}
	})
}

// A 4xx is retried with backoff until the server takes the message; it is
// sent once.
func TestTemporaryRefusalIsRetried(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		f.mailer.Refuse("ann@example.com", 451, "greylisted")
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},"steps":[{"id":"m","email":{"template":"t","group":"g"}}]}`)
		f.engine(journeys.Options{RetryBase: 300 * time.Millisecond})
		f.event("e1", "track", "Go", `"properties":{}`)
		eventually(t, 10*time.Second, func() bool {
			ms := f.messages("queued")
			return len(ms) == 1 && ms[0].Reply != "" && ms[0].Reply[:3] == "451"
		})
		f.mailer.Accept("ann@example.com")
		f.mailer.WaitFor(t, 1, 10*time.Second)
		eventually(t, 10*time.Second, func() bool { return len(f.messages("sent")) == 1 })
		if n := f.mailer.Count(); n != 1 {
			t.Errorf("%d emails, want 1", n)
		}
	})
}

// The frequency cap skips group email over it (reason capped) and the
// instance goes on; transactional email is never capped.
func TestFrequencyCap(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{N: 1, Period: time.Hour})
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},"steps":[
			{"id":"a","email":{"template":"t","group":"g"}},{"id":"w","wait":"1s"},
			{"id":"b","email":{"template":"t","group":"g"}},{"id":"r","email":{"template":"receipt"}}]}`)
		f.engine(journeys.Options{})
		f.event("e1", "track", "Go", `"properties":{}`)
		eventually(t, 15*time.Second, func() bool { return len(f.messages("sent")) == 2 && len(f.messages("skipped")) == 1 })
		sk := f.messages("skipped")[0]
		if sk.StepID != "b" || sk.Reason != "capped" {
			t.Errorf("skipped %+v, want step b capped", sk)
		}
		for _, m := range f.mailer.Mails() {
			if m.Msg.Header.Get("Subject") == "Receipt" && m.Msg.Header.Get("List-Unsubscribe") != "" {
				t.Error("transactional email carries List-Unsubscribe")
			}
		}
	})
}
