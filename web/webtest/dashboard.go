package webtest

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/web"
)

// The admin every Dash starts with (unless NoAdmin).
const (
	AdminEmail    = "admin@example.com"
	AdminPassword = "correct horse battery staple"
)

// Dash is a real Inlet server with one admin, and a browser-like client
// (cookie jar, redirects not followed so tests see each hop).
type Dash struct {
	T    testing.TB
	St   *store.Store
	Srv  *web.Server
	Auth *auth.Service
	URL  string
	C    *Browser
}

// DashOptions shape StartDashboard's server.
type DashOptions struct {
	Env     map[string]string
	Clock   func() time.Time
	NoAdmin bool         // start with no admin account, as a fresh install does
	St      *store.Store // the store to serve; a fresh test database when nil
}

// StartDashboard starts a server (BASE_URL http://inlet.test unless o.Env
// says otherwise) with one admin and a browser that has not signed in.
func StartDashboard(t testing.TB, o DashOptions) *Dash {
	t.Helper()
	st := o.St
	if st == nil {
		st = testdb.Open(t)
	}
	env := map[string]string{"BASE_URL": "http://inlet.test"}
	for k, v := range o.Env {
		env[k] = v
	}
	cfg := Config(t, env)
	ctx := context.Background()
	deps := Deps(t, cfg, st, Logger(t))
	a := deps.Auth
	if o.Clock != nil {
		a.SetClock(o.Clock)
	}
	if !o.NoAdmin {
		if _, err := a.CreateAdmin(ctx, AdminEmail, AdminPassword); err != nil {
			t.Fatalf("create admin: %v", err)
		}
	}
	srv, _ := Open(t, deps, st, ingest.Options{})
	d := &Dash{T: t, St: st, Srv: srv, Auth: a, URL: "http://" + srv.Addr()}
	d.C = d.NewBrowser()
	return d
}

// Browser is one cookie jar: one person's browser.
type Browser struct {
	T    testing.TB
	Base string
	HC   *http.Client
}

// NewBrowser is a fresh browser on d's server.
func (d *Dash) NewBrowser() *Browser { return NewBrowser(d.T, d.URL) }

// NewBrowser is a fresh browser on the server at base.
func NewBrowser(t testing.TB, base string) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{T: t, Base: base, HC: &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Page is one response, its body kept raw and parsed.
type Page struct {
	Status int
	Header http.Header
	Body   []byte
	Doc    *goquery.Document
}

// Text is the trimmed text of the first element matching sel.
func (p Page) Text(sel string) string { return strings.TrimSpace(p.Doc.Find(sel).First().Text()) }

// Attr is attribute name of the first element matching sel.
func (p Page) Attr(sel, name string) string {
	v, _ := p.Doc.Find(sel).First().Attr(name)
	return v
}

// Do sends req with the browser's cookies and parses the answer.
func (b *Browser) Do(req *http.Request) Page {
	b.T.Helper()
	resp, err := b.HC.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.T.Fatalf("read %s: %v", req.URL, err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.T.Fatalf("parse %s: %v", req.URL, err)
	}
	return Page{Status: resp.StatusCode, Header: resp.Header, Body: body, Doc: doc}
}

// Get GETs path.
func (b *Browser) Get(path string) Page {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodGet, b.Base+path, nil)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.Do(req)
}

// Post posts form to path.
func (b *Browser) Post(path string, form url.Values) Page {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodPost, b.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

// Follow GETs where a redirect points.
func (b *Browser) Follow(p Page) Page {
	b.T.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		b.T.Fatalf("expected a redirect, got %d: %s", p.Status, p.Body)
	}
	return b.Get(p.Header.Get("Location"))
}

// SignIn goes through the sign-in form like a person and returns the answer to the POST.
func (b *Browser) SignIn(email, password, next string) Page {
	b.T.Helper()
	login := b.Get("/login?next=" + url.QueryEscape(next))
	if login.Status != http.StatusOK {
		b.T.Fatalf("GET /login: %d", login.Status)
	}
	return b.Post("/login", url.Values{
		"csrf_token": {login.Attr(`#login-form input[name="csrf_token"]`, "value")},
		"next":       {login.Attr(`#login-form input[name="next"]`, "value")},
		"email":      {email},
		"password":   {password},
	})
}

// MustSignIn signs the admin in and returns the settings page.
func (b *Browser) MustSignIn() Page {
	b.T.Helper()
	p := b.SignIn(AdminEmail, AdminPassword, "")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/dashboard/settings" {
		b.T.Fatalf("sign in: %d to %q: %s", p.Status, p.Header.Get("Location"), p.Body)
	}
	return b.Follow(p)
}

// Submit posts the form matched by sel on p with its hidden fields (the
// CSRF token among them) plus extra.
func (b *Browser) Submit(p Page, sel string, extra url.Values) Page {
	b.T.Helper()
	form := p.Doc.Find(sel).First()
	if form.Length() == 0 {
		b.T.Fatalf("no form %s on the page", sel)
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
	return b.Post(action, vals)
}

// Workspace is the workspace named name, or the test fails.
func (d *Dash) Workspace(ctx context.Context, name string) store.Workspace {
	d.T.Helper()
	all, err := d.St.Workspaces(ctx)
	if err != nil {
		d.T.Fatal(err)
	}
	for _, w := range all {
		if w.Name == name {
			return w
		}
	}
	d.T.Fatalf("no workspace named %q", name)
	return store.Workspace{}
}

// DefaultWS is the default workspace.
func (d *Dash) DefaultWS() store.Workspace {
	d.T.Helper()
	ws, err := d.St.DefaultWorkspace(context.Background())
	if err != nil {
		d.T.Fatal(err)
	}
	return ws
}
