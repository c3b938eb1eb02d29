package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// track stores one track event of userID, as the webhook would.
func track(t *testing.T, st *store.Store, ws store.Workspace, id, userID, name string) {
	t.Helper()
	now := time.Now().UTC()
	raw, _ := json.Marshal(map[string]any{"type": "track", "messageId": id, "userId": userID, "event": name,
		"timestamp": now.Format(time.RFC3339Nano), "properties": map[string]any{"cartId": "c-" + id}})
	if _, err := st.InsertEvents(context.Background(), []store.NewEvent{{WorkspaceID: ws.ID, MessageID: id, Type: "track",
		Event: name, UserID: userID, Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: raw}}); err != nil {
		t.Fatal(err)
	}
}

func TestJourneySendsThroughSMTP(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st, sample)
		ctx := context.Background()
		mailer := smtptest.Start(t)
		if err := st.SaveEmailSettings(ctx, e.ws.ID, store.EmailSettings{Host: mailer.Host, Port: mailer.Port, TLSMode: config.TLSNone,
			FromName: "Shop", FromAddress: "shop@example.com"}, false); err != nil {
			t.Fatal(err)
		}
		mustCreate := func(path, body string) {
			t.Helper()
			if code, out := e.send(t, "POST", path, e.write, body); code != 201 {
				t.Fatalf("POST %s: %d %v", path, code, out)
			}
		}
		mustCreate("/api/v1/templates", `{"key":"cart","subject":"Your cart {{ event.properties.cartId }}","html":"<p>Hi {{ user.traits.email }}</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"}`)
		mustCreate("/api/v1/subscription-groups", `{"key":"reminders","name":"Reminders"}`)

		// Refused definitions name the path of their fault; nothing is stored.
		for _, c := range []struct{ body, path string }{
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","wait":"1s"},{"id":"b","email":{"template":"nope","group":"reminders"}}]}`, "steps[1].email.template"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","email":{"template":"cart","group":"nope"}}]}`, "steps[0].email.group"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","email":{"template":"cart"}}]}`, "steps[0].email.group"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","wait":"1s"},{"id":"a","wait":"2s"}]}`, "steps[1].id"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","wait":"400d"}]}`, "steps[0].wait"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","waitFor":{"audience":"x"}}]}`, "steps[0].waitFor.timeout"},
			{`{"key":"j","name":"J","trigger":{"audienceEntered":"vip"},"steps":[{"id":"a","waitFor":{"event":{"event":"Y","match":["cartId"]},"timeout":"1h"}}]}`, "steps[0].waitFor"},
			{`{"key":"j","name":"J","trigger":{"broadcast":"vip"},"exitOn":{"event":{"event":"Y","match":["cartId"]}},"steps":[]}`, "exitOn"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","webhook":{"destination":"nope"}}]}`, "steps[0].webhook.destination"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","waitFor":{"event":{"event":"Y"},"timeout":"1h","onTimeout":[{"id":"b","email":{"template":"nope","group":"reminders"}}]}}]}`, "steps[0].waitFor.onTimeout[0].email.template"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","branch":{"if":{"trait":"plan","op":"eq","value":"pro"},"then":[{"id":"a","wait":"1s"}]}}]}`, "steps[0].branch.then[0].id"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[{"id":"a","waitFor":{"event":{"event":"Y"},"timeout":"366d"}}]}`, "steps[0].waitFor.timeout"},
			{`{"key":"new","name":"J","trigger":{"event":{"event":"X"}},"steps":[]}`, "key"},
			{`{"key":"validate","name":"J","trigger":{"event":{"event":"X"}},"steps":[]}`, "key"},
			{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":[` + strings.Repeat(`{"id":"w","wait":"1s"},`, 100) + `{"id":"z","wait":"1s"}]}`, "steps"},
		} {
			code, out := e.send(t, "POST", "/api/v1/journeys", e.write, c.body)
			if code != 422 || out["path"] != c.path {
				t.Errorf("%.80s: %d %v, want 422 at %s", c.body, code, out, c.path)
			}
		}

		if code, out := e.send(t, "POST", "/api/v1/templates", e.write, `{"key":"new","subject":"S","html":"<p>x</p>"}`); code != 422 ||
			!strings.HasPrefix(fmt.Sprint(out["error"]), "key:") {
			t.Errorf("template keyed new: %d %v, want 422 naming key", code, out)
		}
		mustCreate("/api/v1/journeys", `{"key":"abandoned_cart","name":"Abandoned cart","enabled":true,"reentry":"always",
			"trigger":{"event":{"event":"Checkout Started"}},
			"steps":[{"id":"wait1","wait":"1s"},{"id":"nudge","email":{"template":"cart","group":"reminders"}}]}`)

		eng := journeys.New(st, &email.Service{Store: st, BaseURL: "http://localhost:8080"}, journeys.Options{Poll: 50 * time.Millisecond})
		eng.Start(ctx)
		t.Cleanup(eng.Close)

		start := time.Now()
		track(t, st, e.ws, "ev1", "u1", "Checkout Started")
		m := mailer.WaitFor(t, 1, 20*time.Second)[0]
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("sent after %s: the 1s wait did not hold", waited)
		}
		h := m.Msg.Header
		if m.To[0] != "ann@example.com" || h.Get("Subject") != "Your cart c-ev1" || !strings.HasPrefix(h.Get("Message-Id"), "<"+e.ws.ID.String()+".abandoned_cart.") ||
			!strings.HasSuffix(h.Get("Message-Id"), ".nudge@inlet>") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("received %v: %v", m.To, h)
		}
		msgs := func(q string) []any {
			t.Helper()
			code, out := e.send(t, "GET", "/api/v1/messages?"+q, e.read, "")
			if code != 200 {
				t.Fatalf("messages: %d %v", code, out)
			}
			return out["messages"].([]any)
		}
		var sent map[string]any
		testutil.WaitWithin(t, 10*time.Second, "the send logged", func() bool {
			l := msgs("userId=u1&status=sent")
			if len(l) == 1 {
				sent = l[0].(map[string]any)
			}
			return len(l) == 1
		})
		if sent["journey"] != "abandoned_cart" || sent["step"] != "nudge" || sent["template"] != "cart" || sent["to"] != "ann@example.com" ||
			!strings.HasPrefix(sent["reply"].(string), "250") {
			t.Errorf("log entry %v", sent)
		}
		code, stats := e.send(t, "GET", "/api/v1/journeys/abandoned_cart/stats", e.read, "")
		if code != 200 || stats["entered"] != 1.0 || stats["completed"] != 1.0 || stats["passed"].(map[string]any)["nudge"] != 1.0 {
			t.Errorf("stats %d %v", code, stats)
		}
		if steps := stats["steps"].([]any); len(steps) != 2 || steps[1].(map[string]any)["id"] != "nudge" || steps[1].(map[string]any)["sent"] != 1.0 {
			t.Errorf("stats steps %v", steps)
		}

		// Unsubscribing through the email's own header stops the group's email.
		u, _ := url.Parse(strings.Trim(h.Get("List-Unsubscribe"), "<>"))
		res, err := http.Post(e.url+u.Path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("one-click: %v %v", res, err)
		}
		res.Body.Close()
		track(t, st, e.ws, "ev2", "u1", "Checkout Started")
		testutil.WaitWithin(t, 20*time.Second, "the expected log line", func() bool { return len(msgs("userId=u1&status=skipped")) == 1 })
		if r := msgs("userId=u1&status=skipped")[0].(map[string]any)["reason"]; r != "unsubscribed" {
			t.Errorf("reason %v", r)
		}

		// A 5xx for the recipient is a hard bounce: logged bounced, the
		// address suppressed, the next send skipped without contacting the server.
		mailer.Refuse("bo@example.com", 550, "no such mailbox")
		track(t, st, e.ws, "ev3", "u2", "Checkout Started")
		testutil.WaitWithin(t, 20*time.Second, "the expected log line", func() bool { return len(msgs("userId=u2&status=bounced")) == 1 })
		if b, _ := st.Bounced(ctx, e.ws.ID, "bo@example.com"); !b {
			t.Error("bounced address not suppressed")
		}
		if code, out := e.send(t, "GET", "/api/v1/bounces", e.read, ""); code != 200 || len(out["bounces"].([]any)) != 1 {
			t.Errorf("bounces: %d %v", code, out)
		}
		mailer.Accept("bo@example.com")
		track(t, st, e.ws, "ev4", "u2", "Checkout Started")
		testutil.WaitWithin(t, 20*time.Second, "the expected log line", func() bool { return len(msgs("userId=u2&status=skipped")) == 1 })
		if r := msgs("userId=u2&status=skipped")[0].(map[string]any)["reason"]; r != "bounced" {
			t.Errorf("reason %v", r)
		}
		if n := mailer.Count(); n != 1 {
			t.Errorf("%d messages arrived, want only the first", n)
		}
		if l := msgs("journey=abandoned_cart&limit=2"); len(l) != 2 {
			t.Errorf("page of 2: %d", len(l))
		}

		// The bounce is liftable.
		if code, _ := e.send(t, "DELETE", "/api/v1/bounces/bo@example.com", e.write, ""); code != 204 {
			t.Errorf("lift bounce: %d", code)
		}
		if code, _ := e.send(t, "DELETE", "/api/v1/bounces/bo@example.com", e.write, ""); code != 404 {
			t.Errorf("lift again: %d", code)
		}
		// Erasing a user removes their instances and their log: nothing
		// queued for them is sent any more.
		if code, out := e.send(t, "DELETE", "/api/v1/users/u2", e.write, ""); code >= 300 {
			t.Fatalf("erase: %d %v", code, out)
		}
		if l := msgs("userId=u2"); len(l) != 0 {
			t.Errorf("messages of an erased user: %v", l)
		}
		if ins, _ := st.UserJourneys(ctx, e.ws.ID, "u2", 10); len(ins) != 0 {
			t.Errorf("journeys of an erased user: %v", ins)
		}
	})
}
