package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// trackProps stores one track event with properties, as the webhook would.
func trackProps(t *testing.T, st *store.Store, ws store.Workspace, id, userID, name string, props map[string]any) {
	t.Helper()
	now := time.Now().UTC()
	raw, _ := json.Marshal(map[string]any{"type": "track", "messageId": id, "userId": userID, "event": name,
		"timestamp": now.Format(time.RFC3339Nano), "properties": props})
	if _, err := st.InsertEvents(context.Background(), []store.NewEvent{{WorkspaceID: ws.ID, MessageID: id, Type: "track",
		Event: name, UserID: userID, Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: raw}}); err != nil {
		t.Fatal(err)
	}
}

// The abandoned-cart journey made through the API: nested steps
// run (waitFor with match, timeout, branch, signed webhook) and the stats
// answer per step id.
func TestJourneyTreeThroughAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st, sample)
		ctx := context.Background()
		mailer := smtptest.Start(t)
		if err := st.SaveEmailSettings(ctx, e.ws.ID, store.EmailSettings{Host: mailer.Host, Port: mailer.Port, TLSMode: config.TLSNone,
			FromName: "Shop", FromAddress: "shop@example.com"}, false); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var posts []map[string]any
		secret := ""
		rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
			m := hmac.New(sha256.New, key)
			m.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
			m.Write(body)
			if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
				t.Error("webhook signature does not verify")
			}
			var p map[string]any
			_ = json.Unmarshal(body, &p)
			posts = append(posts, p)
		}))
		t.Cleanup(rcv.Close)
		d, err := delivery.Create(ctx, st, &delivery.NetGuard{}, e.ws.ID, delivery.Input{Name: "crm-hook", URL: rcv.URL, Types: "page"})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		secret = d.Secret
		mu.Unlock()
		for path, body := range map[string]string{
			"/api/v1/templates":           `{"key":"cart_nudge","subject":"Your cart {{ event.properties.cartId }}","html":"<p>Hi</p>"}`,
			"/api/v1/subscription-groups": `{"key":"reminders","name":"Reminders"}`,
		} {
			if code, out := e.send(t, "POST", path, e.write, body); code != 201 {
				t.Fatalf("POST %s: %d %v", path, code, out)
			}
		}
		if code, out := e.send(t, "POST", "/api/v1/templates", e.write, `{"key":"cart_last_call","subject":"Last call {{ event.properties.cartId }}","html":"<p>Last</p>"}`); code != 201 {
			t.Fatalf("template: %d %v", code, out)
		}
		if code, out := e.send(t, "POST", "/api/v1/journeys", e.write, `{"key":"abandoned_cart","name":"Abandoned cart","enabled":true,
			"trigger":{"event":{"event":"Checkout Started"}},"reentry":"always",
			"exitOn":{"event":{"event":"Cart Emptied","match":["cartId"]}},
			"steps":[{"id":"wait1","wait":"1s"},{"id":"nudge","email":{"template":"cart_nudge","group":"reminders"}},
			{"id":"bought","waitFor":{"event":{"event":"Order Completed","match":["cartId"]},"timeout":"4s","then":[],
				"onTimeout":[{"id":"last","email":{"template":"cart_last_call","group":"reminders"}}]}},
			{"id":"vip","branch":{"if":{"trait":"plan","op":"eq","value":"pro"},"then":[{"id":"crm","webhook":{"destination":"crm-hook"}}],"else":[]}}]}`); code != 201 {
			t.Fatalf("journey: %d %v", code, out)
		}
		eng := journeys.New(st, &email.Service{Store: st, BaseURL: "http://localhost:8080"}, journeys.Options{Poll: 50 * time.Millisecond})
		eng.Start(ctx)
		t.Cleanup(eng.Close)

		trackProps(t, st, e.ws, "c1", "u1", "Checkout Started", map[string]any{"cartId": "A"})
		trackProps(t, st, e.ws, "c2", "u2", "Checkout Started", map[string]any{"cartId": "B"})
		mailer.WaitFor(t, 2, 20*time.Second)
		stats := func() map[string]any {
			t.Helper()
			code, out := e.send(t, "GET", "/api/v1/journeys/abandoned_cart/stats", e.read, "")
			if code != 200 {
				t.Fatalf("stats: %d %v", code, out)
			}
			return out
		}
		testutil.WaitWithin(t, 10*time.Second, "both waiting at bought", func() bool {
			return stats()["atStep"].(map[string]any)["bought"] == 2.0
		})
		trackProps(t, st, e.ws, "o2", "u2", "Order Completed", map[string]any{"cartId": "B"})
		testutil.WaitWithin(t, 20*time.Second, "u1's webhook", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(posts) == 1
		})
		mu.Lock()
		if posts[0]["journey"] != "abandoned_cart" || posts[0]["step"] != "crm" {
			t.Errorf("post %v", posts[0])
		}
		mu.Unlock()
		last := mailer.WaitFor(t, 3, 10*time.Second)[2]
		if last.To[0] != "ann@example.com" || last.Msg.Header.Get("Subject") != "Last call A" {
			t.Errorf("last call %v %q", last.To, last.Msg.Header.Get("Subject"))
		}
		testutil.WaitWithin(t, 10*time.Second, "both completed", func() bool { return stats()["completed"] == 2.0 })
		s := stats()
		passed := s["passed"].(map[string]any)
		if passed["bought"] != 2.0 || passed["last"] != 1.0 || passed["crm"] != 1.0 || passed["vip"] != 2.0 {
			t.Errorf("passed %v", passed)
		}
		var ids []string
		for _, x := range s["steps"].([]any) {
			st := x.(map[string]any)
			ids = append(ids, st["id"].(string)+"@"+st["path"].(string))
		}
		if got := strings.Join(ids, " "); got != "wait1@steps[0] nudge@steps[1] bought@steps[2] last@steps[2].waitFor.onTimeout[0] vip@steps[3] crm@steps[3].branch.then[0]" {
			t.Errorf("steps %s", got)
		}
		if mailer.Count() != 3 {
			t.Errorf("%d mails, want 3", mailer.Count())
		}
	})
}
