package auth_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// signedIn starts a session for a new admin and returns the cookie a browser would keep.
func signedIn(t *testing.T, ss *auth.SessionStore, admin uuid.UUID) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if _, err := ss.Start(httptest.NewRequest(http.MethodPost, "/login", nil), rec, admin); err != nil {
		t.Fatalf("start: %v", err)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == auth.CookieName {
			return c
		}
	}
	t.Fatal("no session cookie set")
	return nil
}

func load(t *testing.T, ss *auth.SessionStore, c *http.Cookie, header ...string) (adminID string, ok bool) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/dashboard/settings", nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if c != nil {
		req.AddCookie(c)
	}
	sess, err := ss.New(req, auth.CookieName)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	id, _ := sess.Values[auth.KeyAdminID].(string)
	return id, !sess.IsNew && id != ""
}

func newAdmin(t *testing.T, st *store.Store, email string) store.Admin {
	t.Helper()
	a, err := auth.CreateAdmin(context.Background(), st, email, "password-1234")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestSessionLifetimes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now()
		ss := auth.NewSessionStore(st, auth.SessionOptions{Key: "k", Idle: time.Hour, Absolute: 3 * time.Hour,
			Now: func() time.Time { return now }})
		admin := newAdmin(t, st, "a@example.com")

		c := signedIn(t, ss, admin.ID)
		if c.MaxAge != int((3*time.Hour).Seconds()) || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("cookie flags: %+v", c)
		}
		if id, ok := load(t, ss, c); !ok || id != admin.ID.String() {
			t.Fatalf("fresh session not loaded: %q %v", id, ok)
		}

		// Activity keeps it alive past the idle limit…
		for i := 0; i < 2; i++ {
			now = now.Add(50 * time.Minute)
			if _, ok := load(t, ss, c); !ok {
				t.Fatalf("active session ended after %d steps", i+1)
			}
		}
		// …but not past the absolute one.
		now = now.Add(90 * time.Minute) // 190 min after sign-in, 50 min idle
		if _, ok := load(t, ss, c); ok {
			t.Fatal("session outlived its absolute lifetime")
		}

		// Idle: an hour and a bit without a request ends it, and a page's
		// own background polls do not count as activity.
		c2 := signedIn(t, ss, admin.ID)
		now = now.Add(50 * time.Minute)
		if _, ok := load(t, ss, c2, auth.BackgroundHeader, "1"); !ok {
			t.Fatal("a background poll within the idle limit was refused")
		}
		now = now.Add(11 * time.Minute)
		if _, ok := load(t, ss, c2); ok {
			t.Fatal("idle session still valid")
		}
	})
}

func TestSessionForgedOrForeignCookie(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	admin := newAdmin(t, st, "a@example.com")
	ss := auth.NewSessionStore(st, auth.SessionOptions{Key: "key-one"})
	other := auth.NewSessionStore(st, auth.SessionOptions{Key: "key-two"})
	c := signedIn(t, ss, admin.ID)
	if _, ok := load(t, other, c); ok {
		t.Fatal("a cookie signed with another key was accepted")
	}
	tampered := *c
	tampered.Value = c.Value[:len(c.Value)-2] + "AA"
	if _, ok := load(t, ss, &tampered); ok {
		t.Fatal("a tampered cookie was accepted")
	}
	if _, ok := load(t, ss, nil); ok {
		t.Fatal("no cookie yet signed in")
	}
}

func TestSessionEndedByPasswordReset(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	admin := newAdmin(t, st, "a@example.com")
	ss := auth.NewSessionStore(st, auth.SessionOptions{Key: "k"})
	c := signedIn(t, ss, admin.ID)
	if err := auth.ResetPassword(context.Background(), st, "A@example.com", "new-password-99"); err != nil {
		t.Fatal(err)
	}
	if _, ok := load(t, ss, c); ok {
		t.Fatal("session survived a password reset")
	}
}

func TestGeneratedSessionKeySurvivesRestart(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	ctx := context.Background()
	admin := newAdmin(t, st, "a@example.com")
	first, err := auth.New(ctx, st, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, first.Sessions, admin.ID)
	second, err := auth.New(ctx, st, auth.Options{}) // a restart: same database, no SESSION_KEY
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := load(t, second.Sessions, c); !ok {
		t.Fatal("a restart signed the admin out")
	}
}

func TestEnsureFirstAdmin(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	ctx := context.Background()
	var logged bytes.Buffer
	if err := auth.EnsureFirstAdmin(ctx, st, "", "", slog.New(slog.NewTextHandler(&logged, nil))); err != nil {
		t.Fatal(err)
	}
	for _, how := range []string{"ADMIN_EMAIL", "ADMIN_PASSWORD", "inlet admin create --email"} {
		if !strings.Contains(logged.String(), how) {
			t.Errorf("the log does not say how to create an admin (%s): %s", how, logged.String())
		}
	}
	log := discardLogger()
	if n, _ := st.CountAdmins(ctx); n != 0 {
		t.Fatalf("%d admins without variables", n)
	}
	if err := auth.EnsureFirstAdmin(ctx, st, "First@Example.com", "first-password", log); err != nil {
		t.Fatal(err)
	}
	// A second start with other variables changes nothing: the admin exists.
	if err := auth.EnsureFirstAdmin(ctx, st, "second@example.com", "second-password", log); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins, want 1", n)
	}
	svc, err := auth.New(ctx, st, auth.Options{SessionKey: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignIn(ctx, "127.0.0.1", "first@example.com", "first-password"); err != nil {
		t.Fatalf("first admin cannot sign in: %v", err)
	}
	if err := auth.EnsureFirstAdmin(ctx, testdb.Open(t), "not-an-email", "first-password", log); err == nil {
		t.Fatal("a bad ADMIN_EMAIL was accepted")
	}
}
