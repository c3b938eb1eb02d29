package journeys_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// The abandoned-cart journey of the issue, through real SMTP and a real
// webhook receiver: the wait holds, the nudge goes out, the waitFor is
// resolved only by the same cart's order, the timeout sends the last
// call, and the branch posts a signed webhook for pro users only.
func TestAbandonedCart(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, config.FrequencyCap{})
		rcv := newReceiver(t)
		f.destination("crm-hook", rcv)
		if _, err := st.CreateEmailTemplate(ctx, f.ws.ID, store.EmailTemplate{Key: "last", Subject: "Last call {{ event.properties.cartId }}", HTML: "<p>Last</p>"}); err != nil {
			t.Fatal(err)
		}
		f.identify("i-ann", "u1", map[string]any{"plan": "pro"})
		f.identify("i-bob", "u2", map[string]any{"email": "bob@example.com", "plan": "free"})
		f.journey(`{"key":"cart","name":"Abandoned cart","reentry":"always","trigger":{"event":{"event":"Checkout Started","where":[{"property":"total","op":"gt","value":10}]}},
			"steps":[{"id":"wait1","wait":"2s"},{"id":"nudge","email":{"template":"t","group":"g"}},
			{"id":"bought","waitFor":{"event":{"event":"Order Completed","match":["cartId"]},"timeout":"5s","then":[],
				"onTimeout":[{"id":"last","email":{"template":"last","group":"g"}}]}},
			{"id":"vip","branch":{"if":{"trait":"plan","op":"eq","value":"pro"},"then":[{"id":"crm","webhook":{"destination":"crm-hook"}}],"else":[]}}]}`)
		f.engine(journeys.Options{})
		start := time.Now()
		f.track("c0", "u1", "Checkout Started", map[string]any{"cartId": "small", "total": 5}) // where refuses it
		f.track("c1", "u1", "Checkout Started", map[string]any{"cartId": "A", "total": 50})
		f.track("c2", "u2", "Checkout Started", map[string]any{"cartId": "B", "total": 50})
		nudges := f.mailer.WaitFor(t, 2, 20*time.Second)
		if waited := time.Since(start); waited < 2*time.Second {
			t.Errorf("nudged after %s: the 2s wait did not hold", waited)
		}
		for _, m := range nudges {
			if m.Msg.Header.Get("Subject") != "Hello" || !strings.HasSuffix(m.Msg.Header.Get("Message-Id"), ".nudge@inlet>") {
				t.Errorf("nudge %v", m.Msg.Header)
			}
		}
		// u1 orders another cart: not the same cart, u1 keeps waiting; u2
		// orders its own: its waitFor is resolved and it completes.
		eventually(t, 10*time.Second, func() bool { return f.stats("cart").AtStep["bought"] == 2 })
		f.track("o1", "u1", "Order Completed", map[string]any{"cartId": "other"})
		f.track("o2", "u2", "Order Completed", map[string]any{"cartId": "B"})
		eventually(t, 10*time.Second, func() bool { in := f.instances("u2"); return len(in) == 1 && in[0].Status == "completed" })
		if in := f.instances("u2")[0]; in.StepID != "vip" {
			t.Errorf("u2 ended at %q, want vip (the branch's else is empty)", in.StepID)
		}
		// u1 times out: last call, then the branch posts the webhook.
		eventually(t, 20*time.Second, func() bool { return len(rcv.received()) == 1 })
		p := rcv.received()[0]
		if !p.valid || p.body["journey"] != "cart" || p.body["step"] != "crm" {
			t.Errorf("webhook post %+v", p)
		}
		if u, _ := p.body["user"].(map[string]any); u["userId"] != "u1" {
			t.Errorf("webhook user %v", p.body["user"])
		}
		if ev, _ := p.body["event"].(map[string]any); ev["event"] != "Checkout Started" || ev["properties"].(map[string]any)["cartId"] != "A" {
			t.Errorf("webhook event %v", p.body["event"])
		}
		mails := f.mailer.WaitFor(t, 3, 10*time.Second)
		if s := mails[2].Msg.Header.Get("Subject"); s != "Last call A" || mails[2].To[0] != "ann@example.com" {
			t.Errorf("third mail %q to %v", s, mails[2].To)
		}
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].Status == "completed" })
		s := f.stats("cart")
		if s.Entered != 2 || s.Completed != 2 || s.Active != 0 || len(s.AtStep) != 0 ||
			s.Passed["wait1"] != 2 || s.Passed["nudge"] != 2 || s.Passed["bought"] != 2 || s.Passed["last"] != 1 || s.Passed["vip"] != 2 || s.Passed["crm"] != 1 {
			t.Errorf("stats %+v", s)
		}
		// The post is recorded right after the receiver answered.
		eventually(t, 10*time.Second, func() bool {
			hooks, _ := st.JourneyWebhooks(ctx, f.ws.ID, "cart", 10)
			return len(hooks) == 1 && hooks[0].Status == "sent" && hooks[0].Attempts == 1
		})
		if n := f.mailer.Count(); n != 3 {
			t.Errorf("%d mails, want 3", n)
		}
	})
}

// exitOn ends an instance while it waits: its timer goes with it and
// nothing is sent.
func TestExitOnWhileWaiting(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},"exitOn":{"event":{"event":"Stop","match":["k"]}},
			"steps":[{"id":"w","wait":"2s"},{"id":"m","email":{"template":"t","group":"g"}}]}`)
		e := f.engine(journeys.Options{})
		f.track("g1", "u1", "Go", map[string]any{"k": 1})
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].StepID == "w" })
		f.track("s0", "u1", "Stop", map[string]any{"k": 2}) // not the same k: no exit
		f.track("s1", "u1", "Stop", map[string]any{"k": 1})
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].Status == "exited" })
		eventually(t, 10*time.Second, f.noTimers)
		for range 3 {
			if err := e.Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.mailer.Count(); n != 0 || len(f.messages("")) != 0 {
			t.Errorf("%d mails, %d messages after exiting", n, len(f.messages("")))
		}
		if s := f.stats("j"); s.Exited != 1 || s.Passed["w"] != 0 {
			t.Errorf("stats %+v", s)
		}
	})
}

// An audienceEntered trigger fires on the Audience Entered event the
// audiences engine writes; a waitFor audience waits for the same.
func TestAudienceEnteredTrigger(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		f.startAudiences(`{"key":"pros","name":"Pros","condition":{"trait":"plan","op":"eq","value":"pro"}}`,
			`{"key":"big","name":"Big","condition":{"trait":"size","op":"gt","value":100}}`)
		f.journey(`{"key":"welcome","name":"Welcome","trigger":{"audienceEntered":"pros"},
			"steps":[{"id":"hi","email":{"template":"t","group":"g"}},
			{"id":"grow","waitFor":{"audience":"big","timeout":"1h","then":[{"id":"receipt","email":{"template":"receipt"}}],"onTimeout":[]}}]}`)
		f.engine(journeys.Options{})
		f.send("p1", "identify", "u1", "", map[string]any{"traits": map[string]any{"plan": "pro"}})
		if m := f.mailer.WaitFor(t, 1, 20*time.Second)[0]; m.Msg.Header.Get("Subject") != "Hello" {
			t.Errorf("subject %q", m.Msg.Header.Get("Subject"))
		}
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].StepID == "grow" })
		f.send("p2", "identify", "u1", "", map[string]any{"traits": map[string]any{"size": 500}})
		if m := f.mailer.WaitFor(t, 2, 20*time.Second)[1]; m.Msg.Header.Get("Subject") != "Receipt" {
			t.Errorf("subject %q", m.Msg.Header.Get("Subject"))
		}
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].Status == "completed" })
	})
}

// A broadcast enters every member once, a page at a time; disabling and
// enabling the journey again sends nothing more.
func TestBroadcastOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		const n = 12
		f := newFixture(t, st, config.FrequencyCap{})
		for i := range n {
			f.send(fmt.Sprintf("b%d", i), "identify", fmt.Sprintf("m%d", i), "", map[string]any{"traits": map[string]any{
				"plan": "pro", "email": fmt.Sprintf("m%d@example.com", i)}})
		}
		f.send("x", "identify", "other", "", map[string]any{"traits": map[string]any{"plan": "free", "email": "o@example.com"}})
		f.startAudiences(`{"key":"pros","name":"Pros","condition":{"trait":"plan","op":"eq","value":"pro"}}`)
		eventually(t, 20*time.Second, func() bool {
			c, _ := st.AudienceMemberCounts(context.Background(), f.ws.ID)
			return c["pros"] == n
		})
		f.journey(`{"key":"news","name":"News","trigger":{"broadcast":"pros"},"steps":[{"id":"m","email":{"template":"t","group":"g"}}]}`)
		e := f.engine(journeys.Options{BroadcastBatch: 5})
		mails := f.mailer.WaitFor(t, n, 30*time.Second)
		seen := map[string]bool{}
		for _, m := range mails {
			if seen[m.To[0]] || m.To[0] == "o@example.com" {
				t.Errorf("mail to %s", m.To[0])
			}
			seen[m.To[0]] = true
		}
		eventually(t, 10*time.Second, func() bool { return len(f.messages("sent")) == n })
		f.setEnabled("news", false)
		f.setEnabled("news", true)
		for range 3 {
			if err := e.Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if c := f.mailer.Count(); c != n || f.stats("news").Entered != n {
			t.Errorf("%d mails, %d entered after enabling again; want %d", c, f.stats("news").Entered, n)
		}
	})
}

// reentry always: a new instance per trigger, but one running instance per
// user and match values.
func TestReentryAlwaysByMatch(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		f.journey(`{"key":"cart","name":"Cart","reentry":"always","trigger":{"event":{"event":"Checkout Started"}},
			"steps":[{"id":"bought","waitFor":{"event":{"event":"Order Completed","match":["cartId"]},"timeout":"1h","then":[],"onTimeout":[]}}]}`)
		f.engine(journeys.Options{})
		running := func(want int) func() bool {
			return func() bool {
				n := 0
				for _, in := range f.instances("u1") {
					if in.Status == "active" && in.StepID == "bought" {
						n++
					}
				}
				return n == want
			}
		}
		f.track("a1", "u1", "Checkout Started", map[string]any{"cartId": "A"})
		f.track("a2", "u1", "Checkout Started", map[string]any{"cartId": "A"}) // A runs: no second
		f.track("b1", "u1", "Checkout Started", map[string]any{"cartId": "B"})
		eventually(t, 10*time.Second, running(2))
		if n := len(f.instances("u1")); n != 2 {
			t.Fatalf("%d instances, want 2 (one per cart)", n)
		}
		f.track("oa", "u1", "Order Completed", map[string]any{"cartId": "A"})
		eventually(t, 10*time.Second, func() bool { return f.stats("cart").Completed == 1 })
		f.track("a3", "u1", "Checkout Started", map[string]any{"cartId": "A"}) // A ended: enters again
		eventually(t, 10*time.Second, running(2))
		if s := f.stats("cart"); s.Entered != 3 || s.AtStep["bought"] != 2 {
			t.Errorf("stats %+v", s)
		}
	})
}

// Two engines on one database: each step runs exactly once — one email
// and one webhook post per instance.
func TestTwoEnginesEachStepOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		const n = 10
		f := newFixture(t, st, config.FrequencyCap{})
		rcv := newReceiver(t)
		f.destination("hook", rcv)
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},
			"steps":[{"id":"w","wait":"1s"},{"id":"h","webhook":{"destination":"hook"}},{"id":"m","email":{"template":"receipt"}}]}`)
		f.engine(journeys.Options{})
		f.engine(journeys.Options{})
		for i := range n {
			f.track(fmt.Sprintf("g%d", i), fmt.Sprintf("u%d", i), "Go", nil)
		}
		eventually(t, 30*time.Second, func() bool {
			return f.stats("j").Completed == n && len(rcv.received()) >= n && len(f.messages("queued")) == 0 && len(f.messages("sending")) == 0 && f.noTimers()
		})
		ids := map[string]int{}
		for _, p := range rcv.received() {
			ids[p.id]++
			if !p.valid {
				t.Error("a post without a valid signature")
			}
		}
		if len(ids) != n || len(rcv.received()) != n {
			t.Errorf("%d posts for %d ids, want %d each once", len(rcv.received()), len(ids), n)
		}
		if ms := f.messages(""); len(ms) != n {
			t.Errorf("%d messages, want %d", len(ms), n)
		}
		if c := f.mailer.Count(); c != 1 { // only u1 has an address; the rest are skipped no_email
			t.Errorf("%d mails, want 1", c)
		}
		if s := f.stats("j"); s.Entered != n || s.Passed["w"] != n || s.Passed["h"] != n || s.Passed["m"] != n {
			t.Errorf("stats %+v", s)
		}
	})
}

// Disabling a journey holds its instances (a due wait does not run) and
// stops entries; enabling it resumes them.
func TestDisabledJourneyHoldsThenResumes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},"steps":[{"id":"w","wait":"1s"},{"id":"m","email":{"template":"t","group":"g"}}]}`)
		f.engine(journeys.Options{})
		f.track("g1", "u1", "Go", nil)
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].StepID == "w" })
		f.setEnabled("j", false)
		// The wait comes due while disabled: the instance is held there.
		eventually(t, 10*time.Second, func() bool {
			ins, _ := st.UserJourneys(context.Background(), f.ws.ID, "u1", 10)
			return len(ins) == 1 && !ins[0].HeldDue.IsZero()
		})
		f.track("g2", "u2", "Go", nil) // no entry while disabled
		eventually(t, 10*time.Second, f.followed)
		if f.mailer.Count() != 0 || f.stats("j").AtStep["w"] != 1 {
			t.Fatalf("held instance moved: %d mails, stats %+v", f.mailer.Count(), f.stats("j"))
		}
		f.setEnabled("j", true)
		f.mailer.WaitFor(t, 1, 10*time.Second)
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].Status == "completed" })
		if len(f.instances("u2")) != 0 {
			t.Error("an event sent while disabled entered the journey")
		}
	})
}

// An erased user leaves their journeys: a wait that comes due after the
// erasure sends nothing and posts nothing.
func TestErasedUserLeaves(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, config.FrequencyCap{})
		rcv := newReceiver(t)
		f.destination("hook", rcv)
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},
			"steps":[{"id":"w","wait":"1s"},{"id":"h","webhook":{"destination":"hook"}},{"id":"m","email":{"template":"t","group":"g"}}]}`)
		e := f.engine(journeys.Options{})
		f.track("g1", "u1", "Go", nil)
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].StepID == "w" })
		if _, err := profiles.Erase(context.Background(), st, f.ws.ID, profiles.EraseRequest{UserID: "u1", Suppress: true, Source: "cli", RequestedBy: "test"},
			profiles.NewSuppressions(st), profiles.Options{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, f.noTimers)
		for range 3 {
			if err := e.Pass(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		if n := f.mailer.Count(); n != 0 || len(rcv.received()) != 0 || len(f.messages("")) != 0 || len(f.instances("u1")) != 0 {
			t.Errorf("after erasure: %d mails, %d posts, %d messages, %d instances", n, len(rcv.received()), len(f.messages("")), len(f.instances("u1")))
		}
	})
}

// A broadcast stopped part-way (the engine closed between pages) is
// finished by the next engine: every member exactly once.
func TestBroadcastSurvivesRestart(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		const n = 40
		f := newFixture(t, st, config.FrequencyCap{})
		for i := range n {
			f.send(fmt.Sprintf("b%d", i), "identify", fmt.Sprintf("m%02d", i), "", map[string]any{"traits": map[string]any{
				"plan": "pro", "email": fmt.Sprintf("m%02d@example.com", i)}})
		}
		f.startAudiences(`{"key":"pros","name":"Pros","condition":{"trait":"plan","op":"eq","value":"pro"}}`)
		eventually(t, 60*time.Second, func() bool {
			c, _ := st.AudienceMemberCounts(context.Background(), f.ws.ID)
			return c["pros"] == n
		})
		// The wait keeps the first engine from sending while it stops (a
		// send cut short waits for its lease: the sender's matter, not this test's).
		f.journey(`{"key":"news","name":"News","trigger":{"broadcast":"pros"},"steps":[{"id":"w","wait":"1s"},{"id":"m","email":{"template":"t","group":"g"}}]}`)
		first := journeys.New(st, f.svc, journeys.Options{BroadcastBatch: 1, Poll: 50 * time.Millisecond})
		first.Start(context.Background())
		eventually(t, 20*time.Second, func() bool { return f.stats("news").Entered > 0 })
		first.Close()
		part := f.stats("news").Entered
		t.Logf("the first engine entered %d of %d before it stopped", part, n)
		f.engine(journeys.Options{BroadcastBatch: 7})
		t.Cleanup(func() {
			if t.Failed() {
				for _, m := range f.messages("") {
					t.Logf("message %s %s %s %s", m.UserID, m.Status, m.Reason, m.Reply)
				}
				next, _ := st.NextTimer(context.Background())
				t.Logf("next timer %v, stats %+v", next, f.stats("news"))
			}
		})
		mails := f.mailer.WaitFor(t, n, 30*time.Second)
		eventually(t, 10*time.Second, func() bool { return len(f.messages("sent")) == n })
		seen := map[string]bool{}
		for _, m := range mails {
			if seen[m.To[0]] {
				t.Errorf("%s mailed twice", m.To[0])
			}
			seen[m.To[0]] = true
		}
		if s := f.stats("news"); s.Entered != n || f.mailer.Count() != n {
			t.Errorf("entered %d, %d mails; want %d", s.Entered, f.mailer.Count(), n)
		}
	})
}

// A changed definition applies to new instances; a running one finishes
// on its version, and still hears the events its version waits for.
func TestRunningInstanceKeepsItsVersion(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st, config.FrequencyCap{})
		f.journey(`{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},
			"steps":[{"id":"a","waitFor":{"event":{"event":"Done"},"timeout":"1h","then":[{"id":"m","email":{"template":"t","group":"g"}}],"onTimeout":[]}}]}`)
		f.engine(journeys.Options{})
		f.track("g1", "u1", "Go", nil)
		eventually(t, 10*time.Second, func() bool { in := f.instances("u1"); return len(in) == 1 && in[0].StepID == "a" })
		if _, err := st.UpdateJourney(ctx, f.ws.ID, "j", `{"key":"j","name":"J","trigger":{"event":{"event":"Go"}},
			"steps":[{"id":"r","email":{"template":"receipt"}}]}`, true); err != nil {
			t.Fatal(err)
		}
		f.track("g2", "u2", "Go", nil)
		eventually(t, 10*time.Second, func() bool { in := f.instances("u2"); return len(in) == 1 && in[0].Status == "completed" })
		f.track("d1", "u1", "Done", nil)
		m := f.mailer.WaitFor(t, 1, 10*time.Second)[0]
		if m.Msg.Header.Get("Subject") != "Hello" || m.To[0] != "ann@example.com" {
			t.Errorf("u1 got %q: not its version's email", m.Msg.Header.Get("Subject"))
		}
		if in := f.instances("u1")[0]; in.Version != 1 || in.Status != "completed" {
			t.Errorf("u1's instance %+v", in)
		}
		if in := f.instances("u2")[0]; in.Version != 2 || in.StepID != "r" {
			t.Errorf("u2's instance %+v", in)
		}
	})
}
