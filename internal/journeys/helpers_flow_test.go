package journeys_test

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

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/timers"
)

// send stores one event of user, as the webhook would.
func (f *fixture) send(id, typ, user, name string, body map[string]any) {
	f.t.Helper()
	now := time.Now().UTC()
	ev := map[string]any{"type": typ, "messageId": id, "userId": user, "timestamp": now.Format(time.RFC3339Nano)}
	if name != "" {
		ev["event"] = name
	}
	for k, v := range body {
		ev[k] = v
	}
	raw, _ := json.Marshal(ev)
	if _, err := f.st.InsertEvents(context.Background(), []store.NewEvent{{WorkspaceID: f.ws.ID, MessageID: id, Type: typ, Event: name,
		UserID: user, Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: raw}}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) track(id, user, name string, props map[string]any) {
	f.t.Helper()
	f.send(id, "track", user, name, map[string]any{"properties": props})
}

// identify stores traits and applies them to the profile at once.
func (f *fixture) identify(id, user string, traits map[string]any) {
	f.t.Helper()
	f.send(id, "identify", user, "", map[string]any{"traits": traits})
	if _, err := profiles.NewFollower(f.st, profiles.Options{}).CatchUp(context.Background(), f.ws.ID); err != nil {
		f.t.Fatal(err)
	}
}

// instances lists a user's instances, newest first.
func (f *fixture) instances(user string) []store.UserJourney {
	f.t.Helper()
	ins, err := f.st.UserJourneyInstances(context.Background(), f.ws.ID, user, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return ins
}

func (f *fixture) stats(key string) store.JourneyStats {
	f.t.Helper()
	st, err := f.st.JourneyStats(context.Background(), f.ws.ID, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// setEnabled stores the journey's definition again with enabled.
func (f *fixture) setEnabled(key string, on bool) {
	f.t.Helper()
	ctx := context.Background()
	r, err := f.st.Journey(ctx, f.ws.ID, key)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.UpdateJourney(ctx, f.ws.ID, key, r.Definition, on); err != nil {
		f.t.Fatal(err)
	}
}

// noTimers says the timer table is empty: nothing is left to fire.
func (f *fixture) noTimers() bool {
	next, err := f.st.NextTimer(context.Background())
	return err == nil && next.IsZero()
}

// followed says the journey follower has read every stored event.
func (f *fixture) followed() bool {
	ctx := context.Background()
	cur, ok, err := f.st.JourneyCursor(ctx, f.ws.ID)
	if err != nil || !ok {
		return false
	}
	evs, err := f.st.ReadFeed(ctx, f.ws.ID, cur, 1)
	return err == nil && len(evs) == 0
}

// receiver is a webhook endpoint that checks the Standard Webhooks
// signature of every post with the destination's secret.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	posts  []post
}

type post struct {
	id    string
	body  map[string]any
	valid bool
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		p := post{id: req.Header.Get("webhook-id"), valid: r.verify(req, body)}
		_ = json.Unmarshal(body, &p.body)
		r.mu.Lock()
		r.posts = append(r.posts, p)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// verify checks webhook-signature the way the spec tells receivers to:
// HMAC-SHA256 with the base64 key after whsec_, over id.timestamp.body.
func (r *receiver) verify(req *http.Request, body []byte) bool {
	r.mu.Lock()
	secret := r.secret
	r.mu.Unlock()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) == 0 {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(req.Header.Get("webhook-id") + "." + req.Header.Get("webhook-timestamp") + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, sig := range strings.Fields(req.Header.Get("webhook-signature")) {
		if hmac.Equal([]byte(sig), []byte(want)) {
			return true
		}
	}
	return false
}

func (r *receiver) received() []post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]post(nil), r.posts...)
}

// destination makes a destination named name posting to r; its type
// filter (identify only) must not apply to journey posts.
func (f *fixture) destination(name string, r *receiver) {
	f.t.Helper()
	d, err := delivery.Create(context.Background(), f.st, &delivery.NetGuard{}, f.ws.ID, delivery.Input{Name: name, URL: r.srv.URL, Types: "identify"})
	if err != nil {
		f.t.Fatal(err)
	}
	r.mu.Lock()
	r.secret = d.Secret
	r.mu.Unlock()
}

// startAudiences runs the profile follower and the audiences engine (with
// their own timer worker) and creates the audiences, waiting until built.
func (f *fixture) startAudiences(defs ...string) *audiences.Engine {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	eng := audiences.NewEngine(f.st, audiences.Options{Poll: 50 * time.Millisecond})
	fl := profiles.NewFollower(f.st, profiles.Options{Poll: 50 * time.Millisecond, Applied: eng.Notify})
	tw := timers.New(f.st, timers.Options{})
	tw.Register(audiences.TimerKind, eng.FireTimers)
	fl.Start(ctx)
	eng.Start(ctx)
	tw.Start(ctx)
	f.t.Cleanup(func() {
		cancel()
		c, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = tw.Close(c)
		_ = eng.Close(c)
		_ = fl.Close(c)
	})
	for _, d := range defs {
		row, err := eng.Create(ctx, f.ws.ID, []byte(d))
		if err != nil {
			f.t.Fatal(err)
		}
		eventually(f.t, 20*time.Second, func() bool {
			rows, err := f.st.Audiences(ctx, f.ws.ID)
			for _, r := range rows {
				if r.Key == row.Key && err == nil {
					return r.CurrentVersion == r.Version
				}
			}
			return false
		})
	}
	return eng
}

var _ = journeys.TimerKind
