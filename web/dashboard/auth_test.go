package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"
)

func TestAuthSignIn(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})

	t.Run("not signed in goes to sign-in, then back", func(t *testing.T) {
		b := d.NewBrowser()
		p := b.Get("/dashboard/settings?ws=x")
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login?next="+url.QueryEscape("/dashboard/settings?ws=x") {
			t.Fatalf("got %d to %q", p.Status, p.Header.Get("Location"))
		}
		login := b.Follow(p)
		if login.Doc.Find(`#login-form input[type="email"][name="email"]`).Length() != 1 ||
			login.Doc.Find(`#login-form input[type="password"][name="password"]`).Length() != 1 {
			t.Fatalf("sign-in form lacks its email and password fields: %s", login.Body)
		}
		ok := b.SignIn(webtest.AdminEmail, webtest.AdminPassword, "/dashboard/settings?ws=x")
		if ok.Status != http.StatusSeeOther || ok.Header.Get("Location") != "/dashboard/settings?ws=x" {
			t.Fatalf("sign-in: %d to %q", ok.Status, ok.Header.Get("Location"))
		}
		settings := b.Follow(ok)
		if settings.Status != http.StatusOK || settings.Text(".whoami") != webtest.AdminEmail {
			t.Fatalf("settings after sign-in: %d, whoami %q", settings.Status, settings.Text(".whoami"))
		}
	})

	t.Run("email is case-blind", func(t *testing.T) {
		p := d.NewBrowser().SignIn("  ADMIN@Example.com ", webtest.AdminPassword, "")
		if p.Status != http.StatusSeeOther {
			t.Fatalf("got %d", p.Status)
		}
	})

	t.Run("failure says the same whichever half is wrong", func(t *testing.T) {
		wrongPassword := d.NewBrowser().SignIn(webtest.AdminEmail, "not the password", "")
		unknownEmail := d.NewBrowser().SignIn("nobody@example.com", webtest.AdminPassword, "")
		for _, p := range []webtest.Page{wrongPassword, unknownEmail} {
			if p.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", p.Status)
			}
			if p.Doc.Find(`#login-form`).Length() != 1 {
				t.Fatal("the form is not shown again")
			}
		}
		a, b := wrongPassword.Text("#login-error"), unknownEmail.Text("#login-error")
		if a == "" || a != b {
			t.Fatalf("messages differ or are empty: %q vs %q", a, b)
		}
		if got := wrongPassword.Attr("#email", "value"); got != webtest.AdminEmail {
			t.Errorf("email not kept: %q", got)
		}
		if got, ok := wrongPassword.Doc.Find("#password").Attr("value"); ok && got != "" {
			t.Errorf("password sent back to the browser: %q", got)
		}
	})

	t.Run("sign-in form without its CSRF token is refused", func(t *testing.T) {
		b := d.NewBrowser()
		b.Get("/login")
		p := b.Post("/login", url.Values{"email": {webtest.AdminEmail}, "password": {webtest.AdminPassword}, "csrf_token": {"forged"}})
		if p.Status != http.StatusForbidden {
			t.Fatalf("got %d, want 403", p.Status)
		}
		if got := b.HC.Jar.Cookies(mustURL(t, d.URL+"/dashboard/settings")); len(got) != 0 {
			t.Fatalf("a session cookie was set: %v", got)
		}
	})
}

func TestAuthNoAdminYet(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{NoAdmin: true})
	p := d.C.Get("/login")
	if !strings.Contains(p.Text("#no-admin"), "inlet admin create") {
		t.Fatalf("sign-in page does not say how to create the first admin: %q", p.Text("#no-admin"))
	}
	if p := d.C.SignIn(webtest.AdminEmail, webtest.AdminPassword, ""); p.Status != http.StatusUnauthorized {
		t.Fatalf("sign-in with no admin: %d", p.Status)
	}
	withAdmin := webtest.StartDashboard(t, webtest.DashOptions{})
	if withAdmin.C.Get("/login").Doc.Find("#no-admin").Length() != 0 {
		t.Fatal("notice shown although an admin exists")
	}
}

func TestAuthRedirectSafety(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	cases := map[string]string{
		"/dashboard/events?type=track": "/dashboard/events?type=track",
		"":                             "/dashboard/settings",
		"//evil.example/dashboard":     "/dashboard/settings",
		`/\evil.example`:               "/dashboard/settings",
		`/dashboard\@evil.example`:     "/dashboard/settings",
		"https://evil.example/":        "/dashboard/settings",
		"http:/evil.example":           "/dashboard/settings",
		"javascript:alert(1)":          "/dashboard/settings",
		"/login":                       "/dashboard/settings",
		"/dashboardevil":               "/dashboard/settings",
		"/dashboard/\r\nX-Evil: 1":     "/dashboard/settings",
		" /dashboard/events":           "/dashboard/settings",
	}
	for next, want := range cases {
		t.Run(next, func(t *testing.T) {
			p := d.NewBrowser().SignIn(webtest.AdminEmail, webtest.AdminPassword, next)
			if p.Status != http.StatusSeeOther {
				t.Fatalf("status %d", p.Status)
			}
			if got := p.Header.Get("Location"); got != want {
				t.Fatalf("next %q redirected to %q, want %q", next, got, want)
			}
		})
	}
}

func TestAuthThrottle(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	d := webtest.StartDashboard(t, webtest.DashOptions{Clock: clock})

	b := d.NewBrowser()
	for i := 0; i < 5; i++ {
		if p := b.SignIn(webtest.AdminEmail, "wrong-password", ""); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, p.Status)
		}
	}
	// Locked: even the right password is refused, with a clear message.
	p := b.SignIn(webtest.AdminEmail, webtest.AdminPassword, "")
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures: status %d, want 429", p.Status)
	}
	if p.Header.Get("Retry-After") == "" || !strings.Contains(p.Text("#login-error"), "Too many failed sign-in attempts") {
		t.Fatalf("no Retry-After or message: %q %q", p.Header.Get("Retry-After"), p.Text("#login-error"))
	}
	// Another browser from the same address is refused for this account too.
	if p := d.NewBrowser().SignIn(webtest.AdminEmail, webtest.AdminPassword, ""); p.Status != http.StatusTooManyRequests {
		t.Fatalf("other browser: %d", p.Status)
	}
	// Once the delay has passed the right password works again.
	advance(31 * time.Second)
	if p := b.SignIn(webtest.AdminEmail, webtest.AdminPassword, ""); p.Status != http.StatusSeeOther {
		t.Fatalf("after the delay: status %d: %s", p.Status, p.Text("#login-error"))
	}
}

func TestAuthThrottlePerAddress(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	b := d.NewBrowser()
	// Spraying one password over many accounts from one address trips the
	// per-address limit (20), whichever accounts are named.
	for i := 0; i < 20; i++ {
		if p := b.SignIn("user"+string(rune('a'+i))+"@example.com", "guess-guess", ""); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.Status)
		}
	}
	if p := b.SignIn(webtest.AdminEmail, webtest.AdminPassword, ""); p.Status != http.StatusTooManyRequests {
		t.Fatalf("after 20 failures from one address: %d, want 429", p.Status)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
