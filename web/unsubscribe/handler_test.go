package unsubscribe_test

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

// env is a started server, a mail server the journeys engine sends to,
// and a user u1 (ann@example.com) in the opt-out group news.
type env struct {
	t      *testing.T
	st     *store.Store
	ws     store.Workspace
	url    string
	read   webtest.Token
	mailer *smtptest.Server
}

func setup(t *testing.T, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deps := webtest.Deps(t, webtest.Config(t, nil), st, webtest.Logger(t))
	srv, _ := webtest.Open(t, deps, st, ingest.Options{})
	e := &env{t: t, st: st, ws: ws, url: "http://" + srv.Addr(), mailer: smtptest.Start(t)}
	_, read, err := st.CreateAPIToken(ctx, ws.ID, "reader", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	e.read = webtest.Token{T: t, URL: e.url, Token: read}
	now := time.Now().UTC()
	if _, err := st.InsertEvents(ctx, []store.NewEvent{{WorkspaceID: ws.ID, MessageID: "id1", Type: "identify", UserID: "u1",
		Timestamp: now, ReceivedAt: now, Source: "webhook", Raw: []byte(`{"type":"identify","messageId":"id1","userId":"u1","traits":{"email":"ann@example.com"}}`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := profiles.NewFollower(st, profiles.Options{}).CatchUp(ctx, ws.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEmailTemplate(ctx, ws.ID, store.EmailTemplate{Key: "news", Subject: "News",
		HTML: `<p>Hello</p><a href="{{ unsubscribe_url }}">Unsubscribe</a>`}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSubscriptionGroup(ctx, ws.ID, store.SubscriptionGroup{Key: "news", Name: "The newsletter"}); err != nil {
		t.Fatal(err)
	}
	svc := &email.Service{Store: st, BaseURL: e.url, Defaults: email.Defaults{
		SMTP:     config.SMTP{Host: e.mailer.Host, Port: e.mailer.Port, TLSMode: config.TLSNone},
		FromName: "Shop", FromAddress: "shop@example.com"}}
	eng := journeys.New(st, svc, journeys.Options{Poll: 50 * time.Millisecond})
	eng.Start(ctx)
	t.Cleanup(eng.Close)
	return e
}

// queue puts a send of the newsletter to u1 in the outbox.
func (e *env) queue(key string) {
	e.t.Helper()
	err := e.st.JourneyTx(context.Background(), e.ws.ID, func(tx *store.JourneyTx) error {
		return tx.Queue(store.QueuedMessage{SendKey: key, JourneyKey: "j", StepID: "s", UserID: "u1", Template: "news", Group: "news"}, time.Now().UTC())
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) post(path, body string) (int, string) {
	e.t.Helper()
	res, err := http.Post(e.url+path, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// subscribed is u1's own choice for news: nil when they made none.
func (e *env) subscribed() *bool {
	e.t.Helper()
	subs, err := e.st.Subscriptions(context.Background(), e.ws.ID, "u1")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range subs {
		if s.Group == "news" {
			return &s.Subscribed
		}
	}
	return nil
}

// events counts u1's track events by name, checking their source and group.
func (e *env) events() map[string]int {
	e.t.Helper()
	code, _, b := e.read.Do("GET", "/api/v1/events?user=u1&type=track")
	var out struct {
		Events []struct {
			Event  string `json:"event"`
			Source string `json:"source"`
		} `json:"events"`
	}
	if code != 200 || json.Unmarshal(b, &out) != nil {
		e.t.Fatalf("events: %d %s", code, b)
	}
	n := map[string]int{}
	for _, ev := range out.Events {
		if ev.Source != "messages" || !strings.Contains(string(b), `"group":"news"`) {
			e.t.Errorf("event %s of source %q in %s", ev.Event, ev.Source, b)
		}
		n[ev.Event]++
	}
	return n
}

// htmlPart is the text/html part of a multipart/alternative email.
func htmlPart(t *testing.T, m smtptest.Mail) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q: %v", m.Msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(m.Msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("no text/html part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			b, _ := io.ReadAll(p)
			return string(b)
		}
	}
}

// The RFC 8058 round trip, from the email's own headers: GET shows a
// button and changes nothing, an altered or foreign token answers 404 and
// changes nothing, one POST of List-Unsubscribe=One-Click unsubscribes (no
// session, no CSRF) with one Unsubscribed event, the page resubscribes.
func TestOneClickRoundTrip(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		e.queue("j.1.s")
		m := e.mailer.WaitFor(t, 1, testdb.Patience(10*time.Second))[0]
		h := m.Msg.Header
		if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || h.Get("Message-Id") != "<"+journeys.MessageID(e.ws.ID, "j.1.s")+">" {
			t.Fatalf("headers %v", h)
		}
		u, err := url.Parse(strings.Trim(h.Get("List-Unsubscribe"), "<>"))
		if err != nil || !strings.HasPrefix(u.Path, "/u/") {
			t.Fatalf("List-Unsubscribe %q", h.Get("List-Unsubscribe"))
		}
		link := u.Path
		if body := htmlPart(t, m); !strings.Contains(body, `href="`+e.url+link+`"`) {
			t.Errorf("the HTML part's unsubscribe_url is not the header's link %s: %s", link, body)
		}

		// GET shows a button and changes nothing (mail scanners follow links).
		res, err := http.Get(e.url + link)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(page), `id="unsubscribe-button"`) || !strings.Contains(string(page), "The newsletter") {
			t.Fatalf("GET page: %d %.300s", res.StatusCode, page)
		}
		if e.subscribed() != nil {
			t.Fatal("GET unsubscribed")
		}

		// An altered token, and one made with another key (another Inlet's): 404, nothing changes.
		tok := strings.TrimPrefix(link, "/u/")
		altered := tok[:len(tok)-3] + map[bool]string{true: "AAA", false: "BBB"}[!strings.HasSuffix(tok, "AAA")]
		foreign := email.NewTokens([]byte(strings.Repeat("k", 32))).Make(email.Subscriber{Workspace: e.ws.ID, UserID: "u1", Group: "news"})
		for _, bad := range []string{altered, foreign} {
			if code, _ := e.post("/u/"+bad, "List-Unsubscribe=One-Click"); code != 404 {
				t.Errorf("token %s: %d, want 404", bad, code)
			}
		}
		if e.subscribed() != nil || len(e.events()) != 0 {
			t.Fatal("a bad token changed something")
		}

		// One click: 200 at once; the choice and its event together.
		if code, body := e.post(link, "List-Unsubscribe=One-Click"); code != 200 {
			t.Fatalf("one-click: %d %s", code, body)
		}
		if s := e.subscribed(); s == nil || *s {
			t.Fatalf("after one-click: %v", s)
		}
		if n := e.events(); n["Unsubscribed"] != 1 || len(n) != 1 {
			t.Errorf("events after one-click: %v", n)
		}
		// Twice: still 200, no second event.
		if code, _ := e.post(link, "List-Unsubscribe=One-Click"); code != 200 {
			t.Errorf("second one-click: %d", code)
		}
		// Nothing more from the group, also what is queued now.
		e.queue("j.2.s")
		testutil.WaitWithin(t, testdb.Patience(10*time.Second), "the send skipped", func() bool {
			ms, _ := st.Messages(context.Background(), e.ws.ID, store.MessageFilter{Status: "skipped", Limit: 10})
			return len(ms) == 1 && ms[0].Reason == "unsubscribed"
		})
		if n := e.mailer.Count(); n != 1 {
			t.Errorf("%d emails, want 1", n)
		}

		// Resubscribe from the page.
		if code, body := e.post(link, "action=subscribe"); code != 200 || !strings.Contains(body, `id="subscribe-done"`) {
			t.Errorf("resubscribe: %d %.200s", code, body)
		}
		if s := e.subscribed(); s == nil || !*s {
			t.Errorf("after resubscribe: %v", s)
		}
		if n := e.events(); n["Unsubscribed"] != 1 || n["Subscribed"] != 1 {
			t.Errorf("events by name: %v", n)
		}
		// The page's own unsubscribe button works too.
		if code, body := e.post(link, "action=unsubscribe"); code != 200 || !regexp.MustCompile(`id="(un)?subscribe`).MatchString(body) {
			t.Errorf("page unsubscribe: %d %.200s", code, body)
		}
		if n := e.events(); n["Unsubscribed"] != 2 {
			t.Errorf("events by name: %v", n)
		}
	})
}

// Concurrent clicks change the choice once and record one event: the
// change and its event are one transaction.
func TestConcurrentClicksRecordOneEvent(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st)
		svc := &email.Service{Store: st, BaseURL: e.url}
		link, err := svc.UnsubscribeURL(context.Background(), e.ws.ID, "u1", "news")
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(link, e.url)
		done := make(chan int)
		for range 8 {
			go func() {
				res, err := http.Post(e.url+path, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
				if err != nil {
					done <- 0
					return
				}
				res.Body.Close()
				done <- res.StatusCode
			}()
		}
		for range 8 {
			if code := <-done; code != 200 {
				t.Errorf("one-click: %d", code)
			}
		}
		if n := e.events(); n["Unsubscribed"] != 1 || len(n) != 1 {
			t.Errorf("events after 8 clicks: %v", n)
		}
	})
}
