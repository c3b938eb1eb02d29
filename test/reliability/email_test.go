package reliability

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// maxRepeatsPerKill is the bound: at most the sends in flight
// repeat after a kill -9 (the sender lets at most 32 be accepted by the
// server and not yet recorded).
const maxRepeatsPerKill = 32

// TestEmailKill9 sends thousands of journey emails through a local SMTP
// server and kills the server process with SIGKILL three times while it
// sends, restarting it each time. Every send must arrive at least once,
// a repeat only with the Message-ID (the send key) of the first copy, and
// at most maxRepeatsPerKill repeats per kill.
func TestEmailKill9(t *testing.T) {
	needSuite(t)
	const users = 4000
	dbURL := testdb.PostgresURL(t)
	mailer := smtptest.Start(t)
	p := newInlet(t, dbURL, map[string]string{
		"SMTP_URL": fmt.Sprintf("smtp://%s:%d?tls=none", mailer.Host, mailer.Port), "EMAIL_FROM": "Shop <shop@example.com>"})
	ctx := ctxFor(t, 6*time.Minute)
	st, err := store.Open(ctx, dbURL, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A welcome journey: one email on "Signed Up", in an opt-out group.
	if _, err := st.CreateEmailTemplate(ctx, ws.ID, store.EmailTemplate{Key: "welcome", Subject: "Welcome {{ user.userId }}",
		HTML: `<p>Hi {{ user.traits.email }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSubscriptionGroup(ctx, ws.ID, store.SubscriptionGroup{Key: "news", Name: "News"}); err != nil {
		t.Fatal(err)
	}
	def := `{"key":"welcome","name":"Welcome","trigger":{"event":{"event":"Signed Up"}},"steps":[{"id":"hello","email":{"template":"welcome","group":"news"}}]}`
	d, err := journeys.Parse([]byte(def))
	if err != nil {
		t.Fatal(err)
	}
	if err := journeys.Check(ctx, st, ws.ID, d); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateJourney(ctx, ws.ID, "welcome", def, true); err != nil {
		t.Fatal(err)
	}
	if err := journeys.Prime(ctx, st, ws.ID); err != nil {
		t.Fatal(err)
	}
	// Every user identifies with an address, then signs up.
	now := time.Now().UTC()
	for _, typ := range []string{"identify", "track"} {
		for i := 0; i < users; i += 1000 {
			var batch []store.NewEvent
			for j := i; j < min(i+1000, users); j++ {
				u := "user" + strconv.Itoa(j)
				id := typ + "-" + u
				raw := `{"type":"identify","messageId":"` + id + `","userId":"` + u + `","traits":{"email":"` + u + `@example.org"}}`
				ev := store.NewEvent{WorkspaceID: ws.ID, MessageID: id, Type: typ, UserID: u, Timestamp: now, ReceivedAt: now, Source: "webhook"}
				if typ == "track" {
					raw = `{"type":"track","messageId":"` + id + `","userId":"` + u + `","event":"Signed Up","properties":{}}`
					ev.Event = "Signed Up"
				}
				ev.Raw = []byte(raw)
				batch = append(batch, ev)
			}
			if _, err := st.InsertEvents(ctx, batch); err != nil {
				t.Fatal(err)
			}
		}
	}

	p.start()
	start := time.Now()
	kills := 0
	for _, at := range []int{users / 5, users / 2, users * 4 / 5} {
		testutil.WaitWithin(t, 3*time.Minute, fmt.Sprintf("%d emails to arrive", at), func() bool { return mailer.Count() >= at })
		p.kill()
		kills++
		t.Logf("kill -9 with %d emails received", mailer.Count())
		p.start()
	}
	// The sends the killed processes had claimed come back when their
	// lease (a minute) runs out.
	testutil.WaitWithin(t, 4*time.Minute, "every send to arrive", func() bool { return distinct(mailer.Mails()) >= users })
	took := time.Since(start)
	testutil.WaitWithin(t, time.Minute, "every send to be logged sent", func() bool {
		n, err := countSent(ctx, st, ws)
		return err == nil && n == users
	})

	// Every send key arrived; a repeat carries the first copy's Message-ID.
	mails := mailer.Mails()
	byID := map[string]int{}
	idOf := map[string]string{} // recipient → Message-ID
	for _, m := range mails {
		id, to := m.Msg.Header.Get("Message-Id"), strings.Join(m.To, ",")
		byID[id]++
		if prev, ok := idOf[to]; ok && prev != id {
			t.Errorf("%s received %s and %s: a repeat must carry the same Message-ID", to, prev, id)
		}
		idOf[to] = id
	}
	keys, err := sendKeys(ctx, st, ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if byID["<"+journeys.MessageID(ws.ID, k)+">"] == 0 {
			t.Errorf("send %s never arrived", k)
		}
	}
	repeats := len(mails) - len(byID)
	if len(keys) != users || len(byID) != users {
		t.Errorf("%d send keys, %d distinct Message-IDs received; want %d", len(keys), len(byID), users)
	}
	if repeats > maxRepeatsPerKill*kills {
		t.Errorf("%d repeats over %d kills, more than %d per kill", repeats, kills, maxRepeatsPerKill)
	}
	t.Logf("figures: sends=%d received=%d repeats=%d kills=%d (%.1f per kill, bound %d) all sent in %s",
		users, len(mails), repeats, kills, float64(repeats)/float64(kills), maxRepeatsPerKill, took.Round(time.Second))
}

func distinct(mails []smtptest.Mail) int {
	ids := map[string]bool{}
	for _, m := range mails {
		ids[m.Msg.Header.Get("Message-Id")] = true
	}
	return len(ids)
}

func countSent(ctx context.Context, st *store.Store, ws store.Workspace) (int, error) {
	n := 0
	var before int64
	for {
		ms, err := st.Messages(ctx, ws.ID, store.MessageFilter{Status: "sent", Before: before, Limit: 1000})
		if err != nil || len(ms) == 0 {
			return n, err
		}
		n += len(ms)
		before = ms[len(ms)-1].ID
	}
}

func sendKeys(ctx context.Context, st *store.Store, ws store.Workspace) ([]string, error) {
	var keys []string
	var before int64
	for {
		ms, err := st.Messages(ctx, ws.ID, store.MessageFilter{Before: before, Limit: 1000})
		if err != nil || len(ms) == 0 {
			return keys, err
		}
		for _, m := range ms {
			keys = append(keys, m.SendKey)
		}
		before = ms[len(ms)-1].ID
	}
}
