package web_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// flakyProxy forwards TCP to PostgreSQL until cut, which drops every open
// connection and refuses new ones: the database "goes away" as far as the
// server can tell, with no change to the real PostgreSQL.
type flakyProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	stall  bool // accept connections but never answer: a hung database
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *flakyProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		if p.stall {
			p.conns[c] = struct{}{}
			p.mu.Unlock()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); up.Close() }()
		go func() { _, _ = io.Copy(c, up); c.Close() }()
	}
}

func (p *flakyProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

func (p *flakyProxy) hang() {
	p.cut()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.stall = false, true
}

func (p *flakyProxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.stall = false, false
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// openProxiedStore opens a migrated PostgreSQL store (with its default
// workspace) reached through a flakyProxy the test can cut.
func openProxiedStore(t *testing.T) (*store.Store, *flakyProxy) {
	t.Helper()
	u, err := url.Parse(testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := startProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	ctx := context.Background()
	st, err := store.Open(ctx, u.String(), "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnsureDefaultWorkspace(ctx); err != nil {
		t.Fatal(err)
	}
	return st, proxy
}

func TestWebhookDatabaseOutage(t *testing.T) {
	st, proxy := openProxiedStore(t)
	ctx := context.Background()
	h := webtest.StartHook(t, st, nil)
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	var acked []string // every messageId answered 2xx
	post := func(i int) (webtest.HookReply, time.Duration) {
		mid := fmt.Sprintf("outage-%d", i)
		body := []byte(fmt.Sprintf(`{"type":"track","event":"Outage","userId":"u","messageId":%q}`, mid))
		start := time.Now()
		r := h.Post("", webtest.Sign(webtest.FixtureSecret, body), body)
		if r.Status/100 == 2 {
			acked = append(acked, mid)
		}
		return r, time.Since(start)
	}
	if r, _ := post(0); r.Status != http.StatusOK {
		t.Fatalf("before the outage: %+v", r)
	}

	proxy.cut()
	for i := 1; i <= 5; i++ {
		r, took := post(i)
		if r.Status != http.StatusServiceUnavailable || r.RetryAfter == "" {
			t.Fatalf("during the outage: got %+v, want 503 with Retry-After", r)
		}
		if took > 4*time.Second {
			t.Fatalf("during the outage the answer took %v; Segment gives up after 5s", took)
		}
	}

	// A database that accepts connections and never answers must not hang
	// the webhook either.
	proxy.hang()
	for i := 10; i <= 12; i++ {
		r, took := post(i)
		if r.Status != http.StatusServiceUnavailable || r.RetryAfter == "" || took > 4*time.Second {
			t.Fatalf("hung database: got %+v after %v, want 503 with Retry-After within 4s", r, took)
		}
	}

	proxy.restore()
	deadline := time.Now().Add(10 * time.Second)
	for i := 100; ; i++ {
		r, _ := post(i)
		if r.Status == http.StatusOK {
			break
		}
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("after the outage: %+v", r)
		}
		if time.Now().After(deadline) {
			t.Fatal("ingestion did not resume within 10s of the database returning")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Every 2xx is stored, read back from the database itself; the
	// outage's 503s may or may not be (Segment retries them).
	if len(acked) < 2 {
		t.Fatalf("acknowledged %v: want the delivery before and the one after the outage", acked)
	}
	for _, mid := range acked {
		if _, err := st.EventByMessageID(ctx, h.WS.ID, mid); err != nil {
			t.Errorf("%s acknowledged but not in the database: %v", mid, err)
		}
	}
}
