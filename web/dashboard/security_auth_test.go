package dashboard_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"
)

// loginFrom posts the sign-in form as b, claiming X-Forwarded-For xff.
func loginFrom(b *webtest.Browser, token, xff, password string) int {
	form := url.Values{"csrf_token": {token}, "email": {webtest.AdminEmail}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, b.Base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return b.Do(req).Status
}

func loginToken(b *webtest.Browser) string {
	return b.Get("/login").Attr(`#login-form input[name="csrf_token"]`, "value")
}

// Security review item 4: 150 parallel wrong passwords must not all be
// checked: at most the limit (5 per account at an address) are.
func TestParallelGuessesAreThrottled(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	b := d.NewBrowser()
	token := loginToken(b)
	var checked, throttled atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 150 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			switch code := loginFrom(b, token, "", fmt.Sprintf("wrong-%d", i)); code {
			case http.StatusUnauthorized:
				checked.Add(1)
			case http.StatusTooManyRequests:
				throttled.Add(1)
			default:
				t.Errorf("status %d", code)
			}
		}()
	}
	close(start)
	wg.Wait()
	if n := checked.Load(); n > 5 {
		t.Fatalf("%d of 150 parallel guesses were checked against the password, want at most 5", n)
	}
	if throttled.Load() < 145 {
		t.Fatalf("only %d throttled", throttled.Load())
	}
}

// Security review item 5: guesses from elsewhere cannot lock the admin out
// of their own address, and X-Forwarded-For counts only from TRUSTED_PROXIES.
func TestLockoutFromElsewhere(t *testing.T) {
	t.Parallel()
	t.Run("behind a trusted proxy", func(t *testing.T) {
		d := webtest.StartDashboard(t, webtest.DashOptions{Env: map[string]string{"TRUSTED_PROXIES": "127.0.0.1/32"}})
		attacker, admin := d.NewBrowser(), d.NewBrowser()
		token := loginToken(attacker)
		for i := range 30 {
			loginFrom(attacker, token, "203.0.113.9", fmt.Sprintf("guess-%d", i))
		}
		if code := loginFrom(attacker, token, "203.0.113.9", webtest.AdminPassword); code != http.StatusTooManyRequests {
			t.Fatalf("attacker's address after 30 guesses: %d, want 429", code)
		}
		if code := loginFrom(admin, loginToken(admin), "198.51.100.7", webtest.AdminPassword); code != http.StatusSeeOther {
			t.Fatalf("the admin at their own address: %d, want 303 (signed in)", code)
		}
	})
	t.Run("no trusted proxies: X-Forwarded-For is ignored", func(t *testing.T) {
		d := webtest.StartDashboard(t, webtest.DashOptions{})
		b := d.NewBrowser()
		token := loginToken(b)
		for i := range 5 {
			loginFrom(b, token, fmt.Sprintf("192.0.2.%d", i), "wrong")
		}
		if code := loginFrom(b, token, "192.0.2.200", "wrong"); code != http.StatusTooManyRequests {
			t.Fatalf("a fresh X-Forwarded-For per guess escaped the throttle: %d", code)
		}
	})
}
