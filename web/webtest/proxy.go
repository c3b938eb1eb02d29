package webtest

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Proxy forwards TCP to PostgreSQL until cut, which drops every open
// connection and refuses new ones: the database "goes away" as far as the
// server can tell, with no change to the real PostgreSQL.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	stall  bool // accept connections but never answer: a hung database
	conns  map[net.Conn]struct{}
}

// StartProxy forwards a free local port to target until the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() { ln.Close(); p.Cut() })
	go p.serve()
	return p
}

func (p *Proxy) serve() {
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

// Cut drops every open connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Hang accepts connections but never answers: a hung database.
func (p *Proxy) Hang() {
	p.Cut()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.stall = false, true
}

// Restore forwards again (and drops what hung).
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down, p.stall = false, false
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// OpenProxiedStore opens a migrated PostgreSQL store (with its default
// workspace) reached through a Proxy the test can cut.
func OpenProxiedStore(t testing.TB) (*store.Store, *Proxy) {
	t.Helper()
	u, err := url.Parse(testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := StartProxy(t, u.Host)
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
