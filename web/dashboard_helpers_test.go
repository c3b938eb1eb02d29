package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/web"
)

const (
	adminEmail    = "admin@example.com"
	adminPassword = "correct horse battery staple"
)

// dashServer is a real Inlet server with one admin, and a browser-like
// client (cookie jar, redirects not followed so tests see each hop).
type dashServer struct {
	t    *testing.T
	st   *store.Store
	srv  *web.Server
	auth *auth.Service
	url  string
	c    *browser
}

type dashOptions struct {
	env     map[string]string
	clock   func() time.Time
	noAdmin bool         // start with no admin account, as a fresh install does
	st      *store.Store // the store to serve; a fresh test database when nil
}

func startDashboard(t *testing.T, o dashOptions) *dashServer {
	t.Helper()
	st := o.st
	if st == nil {
		st = testdb.Open(t)
	}
	env := map[string]string{"BASE_URL": "http://inlet.test"}
	for k, v := range o.env {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	ctx := context.Background()
	deps := serverDeps(t, cfg, st, testLogger(t))
	a := deps.Auth
	if o.clock != nil {
		a.SetClock(o.clock)
	}
	if !o.noAdmin {
		if _, err := a.CreateAdmin(ctx, adminEmail, adminPassword); err != nil {
			t.Fatalf("create admin: %v", err)
		}
	}
	srv, _ := openTestServer(t, deps, st, ingest.Options{})
	d := &dashServer{t: t, st: st, srv: srv, auth: a, url: "http://" + srv.Addr()}
	d.c = d.newBrowser()
	return d
}

// testLogger shows the server's log lines only when a test fails.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is one cookie jar: one person's browser.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func (d *dashServer) newBrowser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return &browser{t: d.t, base: d.url, hc: &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is one response, its body kept raw and parsed.
type page struct {
	Status int
	Header http.Header
	Body   []byte
	Doc    *goquery.Document
}

func (p page) text(sel string) string { return strings.TrimSpace(p.Doc.Find(sel).First().Text()) }

func (p page) attr(sel, name string) string {
	v, _ := p.Doc.Find(sel).First().Attr(name)
	return v
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("read %s: %v", req.URL, err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.t.Fatalf("parse %s: %v", req.URL, err)
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: body, Doc: doc}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// follow GETs where a redirect points.
func (b *browser) follow(p page) page {
	b.t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		b.t.Fatalf("expected a redirect, got %d: %s", p.Status, p.Body)
	}
	return b.get(p.Header.Get("Location"))
}

// signIn goes through the sign-in form like a person and returns the answer to the POST.
func (b *browser) signIn(email, password, next string) page {
	b.t.Helper()
	login := b.get("/login?next=" + url.QueryEscape(next))
	if login.Status != http.StatusOK {
		b.t.Fatalf("GET /login: %d", login.Status)
	}
	return b.post("/login", url.Values{
		"csrf_token": {login.attr(`#login-form input[name="csrf_token"]`, "value")},
		"next":       {login.attr(`#login-form input[name="next"]`, "value")},
		"email":      {email},
		"password":   {password},
	})
}

// mustSignIn signs the admin in and returns the settings page.
func (b *browser) mustSignIn() page {
	b.t.Helper()
	p := b.signIn(adminEmail, adminPassword, "")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/settings" {
		b.t.Fatalf("sign in: %d to %q: %s", p.Status, p.Header.Get("Location"), p.Body)
	}
	return b.follow(p)
}

// submit posts the form matched by sel on p with its hidden fields plus extra.
func (b *browser) submit(p page, sel string, extra url.Values) page {
	b.t.Helper()
	form := p.Doc.Find(sel).First()
	if form.Length() == 0 {
		b.t.Fatalf("no form %s on the page", sel)
	}
	vals := url.Values{}
	form.Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		val, _ := s.Attr("value")
		vals.Set(name, val)
	})
	for k, v := range extra {
		vals[k] = v
	}
	action, _ := form.Attr("action")
	return b.post(action, vals)
}

func (d *dashServer) workspace(ctx context.Context, name string) store.Workspace {
	d.t.Helper()
	all, err := d.st.Workspaces(ctx)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, w := range all {
		if w.Name == name {
			return w
		}
	}
	d.t.Fatalf("no workspace named %q", name)
	return store.Workspace{}
}
