package journeys_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// users makes n users (user0 … user{n-1}) with an address each, kept by
// the profile follower.
func (f *fixture) users(n int) {
	f.t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i += 1000 {
		var batch []store.NewEvent
		for j := i; j < min(i+1000, n); j++ {
			id, user := fmt.Sprintf("b%d", j), "user"+strconv.Itoa(j)
			raw := `{"type":"identify","messageId":"` + id + `","userId":"` + user + `","traits":{"email":"` + user + `@example.org"}}`
			now := time.Now().UTC()
			batch = append(batch, store.NewEvent{WorkspaceID: f.ws.ID, MessageID: id, Type: "identify", UserID: user,
				Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: []byte(raw)})
		}
		if _, err := f.st.InsertEvents(ctx, batch); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := profiles.NewFollower(f.st, profiles.Options{}).CatchUp(ctx, f.ws.ID); err != nil {
		f.t.Fatal(err)
	}
}

// queue puts sends in the outbox as a journey step would: send key
// prefix.i to user(i) for each i in [from, to).
func (f *fixture) queue(prefix string, from, to int, user func(int) string, template, group string) {
	f.t.Helper()
	now := time.Now().UTC()
	for i := from; i < to; i += 1000 {
		err := f.st.JourneyTx(context.Background(), f.ws.ID, func(tx *store.JourneyTx) error {
			for j := i; j < min(i+1000, to); j++ {
				if err := tx.Queue(store.QueuedMessage{SendKey: prefix + "." + strconv.Itoa(j), JourneyKey: prefix, StepID: "s",
					UserID: user(j), Template: template, Group: group}, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			f.t.Fatal(err)
		}
	}
}

func numbered(i int) string { return "user" + strconv.Itoa(i) }

// EMAIL_RATE holds across the sender's connections: n sends at r per
// second take at least (n-1)/r (the bucket starts with one token). A lower
// bound: a loaded machine can only make it slower.
func TestEmailRateHolds(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		const n, r = 12, 5
		f.users(n)
		f.queue("rate", 0, n, numbered, "t", "g")
		start := time.Now()
		f.engine(journeys.Options{Rate: r})
		f.mailer.WaitFor(t, n, testdb.Patience(30*time.Second))
		if took, least := time.Since(start), time.Duration(n-1)*time.Second/r; took < least {
			t.Errorf("%d emails at EMAIL_RATE=%d took %s, the rate allows no less than %s", n, r, took, least)
		}
		eventually(t, 10*time.Second, func() bool { return len(f.messages("sent")) == n })
	})
}

// Two senders on one database, each with its own store (its own
// connection pool), as two instances of Inlet run them, share the outbox:
// every send goes out exactly once.
func TestTwoSendersNeverSendTwice(t *testing.T) {
	t.Parallel()
	for _, dialect := range []string{"postgres", "sqlite"} {
		t.Run(dialect, func(t *testing.T) {
			dsn, dir := "", t.TempDir()
			if dialect == "postgres" {
				dsn = testdb.PostgresURL(t)
			}
			ctx := context.Background()
			open := func() *store.Store {
				st, err := store.Open(ctx, dsn, dir, store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				return st
			}
			st := open()
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := st.EnsureDefaultWorkspace(ctx); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, st, config.FrequencyCap{})
			const n = 400
			f.users(n)
			f.queue("two", 0, n, numbered, "t", "g")
			other := open()
			f.engine(journeys.Options{})
			svc := &email.Service{Store: other, BaseURL: f.svc.BaseURL, Defaults: f.svc.Defaults}
			e2 := journeys.New(other, svc, journeys.Options{Poll: 50 * time.Millisecond})
			e2.Start(ctx)
			t.Cleanup(e2.Close)
			f.mailer.WaitFor(t, n, testdb.Patience(60*time.Second))
			eventually(t, 20*time.Second, func() bool {
				ms, err := st.Messages(ctx, f.ws.ID, store.MessageFilter{Status: "sent", Limit: n + 1})
				return err == nil && len(ms) == n
			})
			ids := map[string]int{}
			for _, m := range f.mailer.Mails() {
				ids[m.Msg.Header.Get("Message-Id")]++
			}
			for id, c := range ids {
				if c > 1 {
					t.Errorf("%s sent %d times", id, c)
				}
			}
			if f.mailer.Count() != n || len(ids) != n {
				t.Errorf("%d emails, %d distinct Message-IDs; want %d of each", f.mailer.Count(), len(ids), n)
			}
		})
	}
}

// An unsubscribed user receives nothing more from that group, also from
// sends queued before they unsubscribed; another group's and
// transactional mail still go.
func TestUnsubscribeStopsQueuedSends(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		ctx := context.Background()
		if _, err := st.CreateSubscriptionGroup(ctx, f.ws.ID, store.SubscriptionGroup{Key: "other", Name: "Other"}); err != nil {
			t.Fatal(err)
		}
		u1 := func(int) string { return "u1" }
		f.queue("g", 0, 3, u1, "t", "g")
		f.queue("other", 0, 1, u1, "t", "other")
		f.queue("receipt", 0, 1, u1, "receipt", "")
		if _, err := st.SetSubscription(ctx, f.ws.ID, "u1", "g", false, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		f.engine(journeys.Options{})
		eventually(t, testdb.Patience(10*time.Second), func() bool {
			return len(f.messages("skipped")) == 3 && len(f.messages("sent")) == 2
		})
		for _, m := range f.messages("skipped") {
			if m.Reason != "unsubscribed" || m.JourneyKey != "g" {
				t.Errorf("skipped %+v, want the group g sends, reason unsubscribed", m)
			}
		}
		for _, m := range f.mailer.Mails() {
			if id := m.Msg.Header.Get("Message-Id"); id != "<"+journeys.MessageID(f.ws.ID, "other.0")+">" && id != "<"+journeys.MessageID(f.ws.ID, "receipt.0")+">" {
				t.Errorf("received %s", id)
			}
		}
	})
}
