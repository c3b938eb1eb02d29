package dashboard_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/PuerkitoBio/goquery"
)

func TestDashboardCSRF(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	settings := d.C.MustSignIn()
	token := settings.Attr(`#secret-form input[name="csrf_token"]`, "value")
	if token == "" || token != settings.Attr(`#signout-form input[name="csrf_token"]`, "value") {
		t.Fatalf("forms carry no (or different) CSRF tokens: %q", token)
	}
	ws := d.DefaultWS().ID.String()
	// The first character flipped to another one: a fixed "x" equals the real token when it starts with x.
	wrong := "x" + token[1:]
	if token[0] == 'x' {
		wrong = "y" + token[1:]
	}
	forms := []struct {
		path string
		vals url.Values
	}{
		{"/dashboard/settings/secret", url.Values{"workspace_id": {ws}, "secret": {"attacker-secret"}}},
		{"/dashboard/settings/secret/clear", url.Values{"workspace_id": {ws}, "confirm": {"yes"}}},
		{"/dashboard/workspaces", url.Values{"name": {"Attacker"}}},
		{"/dashboard/settings/test-event", url.Values{"workspace_id": {ws}}},
	}
	for _, f := range forms {
		for name, tok := range map[string][]string{"missing": nil, "wrong": {wrong}, "empty": {""}} {
			vals := url.Values{}
			for k, v := range f.vals {
				vals[k] = v
			}
			if tok != nil {
				vals["csrf_token"] = tok
			}
			p := d.C.Post(f.path, vals)
			if p.Status != http.StatusForbidden {
				t.Fatalf("%s with %s token: %d, want 403", f.path, name, p.Status)
			}
			if p.Doc.Find("#error-page").Length() != 1 || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("%s: refusal is not an HTML error page: %s", f.path, p.Body)
			}
		}
	}
	// Nothing changed.
	if d.SecretOf(d.DefaultWS()).IsSet() {
		t.Fatal("a forged form saved a secret")
	}
	all, err := d.St.Workspaces(context.Background())
	if err != nil || len(all) != 1 {
		t.Fatalf("a forged form created a workspace: %d %v", len(all), err)
	}
	if n, _ := d.St.CountEvents(context.Background(), d.DefaultWS().ID); n != 0 {
		t.Fatalf("a forged form sent a test event")
	}
	// Sign-out with a wrong token does not sign out.
	if p := d.C.Post("/logout", url.Values{"csrf_token": {"nope"}}); p.Status != http.StatusForbidden {
		t.Fatalf("forged sign-out: %d", p.Status)
	}
	if p := d.C.Get("/dashboard/settings"); p.Status != http.StatusOK {
		t.Fatalf("forged sign-out ended the session: %d", p.Status)
	}
	// And the real token works.
	if p := d.C.Submit(settings, "#secret-form", url.Values{"secret": {"real-one-0123456789"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("genuine form: %d", p.Status)
	}
}

func TestDashboardSecurityHeaders(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "same-origin",
		"X-Content-Type-Options":  "nosniff",
	}
	settings := d.C.MustSignIn()
	pages := map[string]webtest.Page{
		"/login":              d.NewBrowser().Get("/login"),
		"/dashboard/settings": settings,
		"/dashboard/nowhere":  d.C.Get("/dashboard/nowhere"),
	}
	for path, p := range pages {
		for k, v := range want {
			if got := p.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
	}
	if p := pages["/dashboard/nowhere"]; p.Status != http.StatusNotFound || p.Doc.Find("#error-page").Length() != 1 {
		t.Errorf("unknown dashboard page: %d, HTML error page %v", p.Status, p.Doc.Find("#error-page").Length() == 1)
	}
	// No inline script or style anywhere the CSP would block.
	for path, p := range pages {
		p.Doc.Find("script").Each(func(_ int, s *goquery.Selection) {
			if src, _ := s.Attr("src"); src == "" {
				t.Errorf("%s: inline <script>", path)
			}
		})
		if p.Doc.Find("style, [style]").Length() > 0 {
			t.Errorf("%s: inline style", path)
		}
	}

	hook := d.C.Post("/api/public/webhooks/segment", url.Values{})
	for k := range want {
		if k == "X-Content-Type-Options" {
			continue
		}
		if got := hook.Header.Get(k); got != "" {
			t.Errorf("webhook answer carries %s: %q", k, got)
		}
	}
	if hook.Header.Get("Set-Cookie") != "" {
		t.Error("webhook answer sets a cookie")
	}
}

func TestDashboardStaticAssets(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	p := d.NewBrowser().Get("/login")
	for _, sel := range []string{`link[rel="stylesheet"]`, `script[src]`} {
		u := p.Attr(sel, "href")
		if u == "" {
			u = p.Attr(sel, "src")
		}
		if !strings.HasPrefix(u, "/static/") || strings.Contains(u, "/missing/") {
			t.Fatalf("%s points at %q", sel, u)
		}
		a := d.C.Get(u)
		if a.Status != http.StatusOK || a.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Fatalf("%s: %d %q", u, a.Status, a.Header.Get("Cache-Control"))
		}
		stale := d.C.Get("/static/0000/" + u[strings.LastIndex(u, "/")+1:])
		if stale.Status != http.StatusOK || stale.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("stale hash: %d %q", stale.Status, stale.Header.Get("Cache-Control"))
		}
	}
	if a := d.C.Get("/static/abc/../../etc/passwd"); a.Status != http.StatusNotFound {
		t.Fatalf("path escape: %d", a.Status)
	}
}

func TestDashboardSessionCookie(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env    map[string]string
		secure bool
	}{
		"http base url":   {nil, false},
		"https base url":  {map[string]string{"BASE_URL": "https://inlet.example.com"}, true},
		"forced secure":   {map[string]string{"COOKIE_SECURE": "true"}, true},
		"forced insecure": {map[string]string{"BASE_URL": "https://inlet.example.com", "COOKIE_SECURE": "false"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			d := webtest.StartDashboard(t, webtest.DashOptions{Env: tc.env})
			p := d.C.SignIn(webtest.AdminEmail, webtest.AdminPassword, "")
			var found bool
			for _, c := range (&http.Response{Header: p.Header}).Cookies() {
				if c.Name != "inlet_session" {
					continue
				}
				found = true
				if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure != tc.secure || c.Path != "/" {
					t.Fatalf("cookie flags: HttpOnly=%v SameSite=%v Secure=%v Path=%q", c.HttpOnly, c.SameSite, c.Secure, c.Path)
				}
				if c.MaxAge <= 0 || c.MaxAge > 7*24*3600 {
					t.Fatalf("cookie lifetime %d s", c.MaxAge)
				}
			}
			if !found {
				t.Fatal("no session cookie set at sign-in")
			}
		})
	}
}

func TestDashboardSignOutEndsSession(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	settings := d.C.MustSignIn()
	u := mustURL(t, d.URL+"/dashboard/settings")
	stolen := d.C.HC.Jar.Cookies(u)
	if len(stolen) != 1 {
		t.Fatalf("cookies: %v", stolen)
	}

	out := d.C.Submit(settings, "#signout-form", nil)
	if out.Status != http.StatusSeeOther || out.Header.Get("Location") != "/login" {
		t.Fatalf("sign out: %d %q", out.Status, out.Header.Get("Location"))
	}
	if p := d.C.Get("/dashboard/settings"); p.Status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", p.Status)
	}
	// A copy of the old cookie (say, stolen before sign-out) no longer works.
	thief := d.NewBrowser()
	thief.HC.Jar.SetCookies(u, stolen)
	if p := thief.Get("/dashboard/settings"); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
		t.Fatalf("old cookie after sign-out: %d %q", p.Status, p.Header.Get("Location"))
	}
}

func TestDashboardSessionRotatedAtSignIn(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	d.C.MustSignIn()
	u := mustURL(t, d.URL+"/dashboard/settings")
	first := d.C.HC.Jar.Cookies(u)
	// Sign in again in the same browser (a form from another tab, so its
	// login cookie and token are borrowed from a fresh visit).
	fresh := d.NewBrowser()
	form := fresh.Get("/login")
	loginURL := mustURL(t, d.URL+"/login")
	for _, c := range fresh.HC.Jar.Cookies(loginURL) {
		d.C.HC.Jar.SetCookies(loginURL, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/login"}})
	}
	if p := d.C.Submit(form, "#login-form", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}}); p.Status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", p.Status)
	}
	second := d.C.HC.Jar.Cookies(u)
	if len(first) != 1 || len(second) != 1 || first[0].Value == second[0].Value {
		t.Fatal("session id not rotated at sign-in")
	}
	old := d.NewBrowser()
	old.HC.Jar.SetCookies(u, first)
	if p := old.Get("/dashboard/settings"); p.Status != http.StatusSeeOther {
		t.Fatalf("the session replaced at sign-in still works: %d", p.Status)
	}
}

func TestDashboardRootRedirects(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	for _, path := range []string{"/", "/dashboard"} {
		p := d.C.Get(path)
		if path == "/dashboard" { // not signed in: to the sign-in page first
			if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/login") {
				t.Fatalf("%s: %d %q", path, p.Status, p.Header.Get("Location"))
			}
			continue
		}
		if p.Status != http.StatusFound || p.Header.Get("Location") != "/dashboard/settings" {
			t.Fatalf("%s: %d %q", path, p.Status, p.Header.Get("Location"))
		}
	}
}
