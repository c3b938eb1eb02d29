package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAuthSignIn(t *testing.T) {
	d := startDashboard(t, dashOptions{})

	t.Run("not signed in goes to sign-in, then back", func(t *testing.T) {
		b := d.newBrowser()
		p := b.get("/dashboard/settings?ws=x")
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/login?next="+url.QueryEscape("/dashboard/settings?ws=x") {
			t.Fatalf("got %d to %q", p.Status, p.Header.Get("Location"))
		}
		login := b.follow(p)
		if login.Doc.Find(`#login-form input[type="email"][name="email"]`).Length() != 1 ||
			login.Doc.Find(`#login-form input[type="password"][name="password"]`).Length() != 1 {
			t.Fatalf("sign-in form lacks its email and password fields: %s", login.Body)
		}
		ok := b.signIn(adminEmail, adminPassword, "/dashboard/settings?ws=x")
		if ok.Status != http.StatusSeeOther || ok.Header.Get("Location") != "/dashboard/settings?ws=x" {
			t.Fatalf("sign-in: %d to %q", ok.Status, ok.Header.Get("Location"))
		}
		settings := b.follow(ok)
		if settings.Status != http.StatusOK || settings.text(".whoami") != adminEmail {
			t.Fatalf("settings after sign-in: %d, whoami %q", settings.Status, settings.text(".whoami"))
		}
	})

	t.Run("email is case-blind", func(t *testing.T) {
		p := d.newBrowser().signIn("  ADMIN@Example.com ", adminPassword, "")
		if p.Status != http.StatusSeeOther {
			t.Fatalf("got %d", p.Status)
		}
	})

	t.Run("failure says the same whichever half is wrong", func(t *testing.T) {
		wrongPassword := d.newBrowser().signIn(adminEmail, "not the password", "")
		unknownEmail := d.newBrowser().signIn("nobody@example.com", adminPassword, "")
		for _, p := range []page{wrongPassword, unknownEmail} {
			if p.Status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", p.Status)
			}
			if p.Doc.Find(`#login-form`).Length() != 1 {
				t.Fatal("the form is not shown again")
			}
		}
		a, b := wrongPassword.text("#login-error"), unknownEmail.text("#login-error")
		if a == "" || a != b {
			t.Fatalf("messages differ or are empty: %q vs %q", a, b)
		}
		if got := wrongPassword.attr("#email", "value"); got != adminEmail {
			t.Errorf("email not kept: %q", got)
		}
		if got, ok := wrongPassword.Doc.Find("#password").Attr("value"); ok && got != "" {
			t.Errorf("password sent back to the browser: %q", got)
		}
	})

	t.Run("sign-in form without its CSRF token is refused", func(t *testing.T) {
		b := d.newBrowser()
		b.get("/login")
		p := b.post("/login", url.Values{"email": {adminEmail}, "password": {adminPassword}, "csrf_token": {"forged"}})
		if p.Status != http.StatusForbidden {
			t.Fatalf("got %d, want 403", p.Status)
		}
		if got := b.hc.Jar.Cookies(mustURL(t, d.url+"/dashboard/settings")); len(got) != 0 {
			t.Fatalf("a session cookie was set: %v", got)
		}
	})
}

func TestAuthNoAdminYet(t *testing.T) {
	d := startDashboard(t, dashOptions{noAdmin: true})
	p := d.c.get("/login")
	if !strings.Contains(p.text("#no-admin"), "inlet admin create") {
		t.Fatalf("sign-in page does not say how to create the first admin: %q", p.text("#no-admin"))
	}
	if p := d.c.signIn(adminEmail, adminPassword, ""); p.Status != http.StatusUnauthorized {
		t.Fatalf("sign-in with no admin: %d", p.Status)
	}
	withAdmin := startDashboard(t, dashOptions{})
	if withAdmin.c.get("/login").Doc.Find("#no-admin").Length() != 0 {
		t.Fatal("notice shown although an admin exists")
	}
}

func TestAuthRedirectSafety(t *testing.T) {
	d := startDashboard(t, dashOptions{})
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
			p := d.newBrowser().signIn(adminEmail, adminPassword, next)
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
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	d := startDashboard(t, dashOptions{clock: clock})

	b := d.newBrowser()
	for i := 0; i < 5; i++ {
		if p := b.signIn(adminEmail, "wrong-password", ""); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, p.Status)
		}
	}
	// Locked: even the right password is refused, with a clear message.
	p := b.signIn(adminEmail, adminPassword, "")
	if p.Status != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures: status %d, want 429", p.Status)
	}
	if p.Header.Get("Retry-After") == "" || !strings.Contains(p.text("#login-error"), "Too many failed sign-in attempts") {
		t.Fatalf("no Retry-After or message: %q %q", p.Header.Get("Retry-After"), p.text("#login-error"))
	}
	// Another browser from the same address is refused for this account too.
	if p := d.newBrowser().signIn(adminEmail, adminPassword, ""); p.Status != http.StatusTooManyRequests {
		t.Fatalf("other browser: %d", p.Status)
	}
	// Once the delay has passed the right password works again.
	advance(31 * time.Second)
	if p := b.signIn(adminEmail, adminPassword, ""); p.Status != http.StatusSeeOther {
		t.Fatalf("after the delay: status %d: %s", p.Status, p.text("#login-error"))
	}
}

func TestAuthThrottlePerAddress(t *testing.T) {
	d := startDashboard(t, dashOptions{})
	b := d.newBrowser()
	// Spraying one password over many accounts from one address trips the
	// per-address limit (20), whichever accounts are named.
	for i := 0; i < 20; i++ {
		if p := b.signIn("user"+string(rune('a'+i))+"@example.com", "guess-guess", ""); p.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, p.Status)
		}
	}
	if p := b.signIn(adminEmail, adminPassword, ""); p.Status != http.StatusTooManyRequests {
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
