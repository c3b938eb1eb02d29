package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// signedInClient signs in to s through its real login form and returns a
// client carrying the session.
func (s *servedInlet) signedInClient(t *testing.T, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	// Sign-in hashes with the production bcrypt cost; under -race on a busy
	// machine that alone took over 10 s, so the client waits longer.
	c := &http.Client{Jar: jar, Timeout: testutil.Patience(time.Minute)}
	resp, err := c.Get(s.url + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on /login:\n%s", body)
	}
	resp, err = c.PostForm(s.url+"/login", url.Values{"csrf_token": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		t.Fatalf("sign-in failed (still on /login, %d)", resp.StatusCode)
	}
	return c
}

type statusJSON struct {
	LastHour struct {
		Requests int64 `json:"requests"`
		Accepted int64 `json:"accepted"`
		Refused  int64 `json:"refused"`
	} `json:"lastHour"`
	Recent []struct {
		Outcome    string `json:"outcome"`
		Credential string `json:"credential"`
	} `json:"recent"`
}

// Issue 13 item 7: two instances on one database show the same connection
// status: deliveries received by A appear on B's status (and A's), read
// from what A saved in the database.
func TestTwoInstancesShowTheSameConnectionStatus(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.PostgresURL(t), "ADMIN_EMAIL": "ops@example.com", "ADMIN_PASSWORD": "a-long-password"}
	if _, _, err := runWith(t, map[string]string{"DATABASE_URL": env["DATABASE_URL"], "LOG_LEVEL": "error"}, fixtureSecret+"\n", "secret", "set"); err != nil {
		t.Fatal(err)
	}
	a := startServe(t, env)
	b := startServe(t, env)
	if code := a.postFixture(t, "identify.json"); code != http.StatusOK {
		t.Fatalf("webhook on A: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, a.url+"/api/public/webhooks/segment", strings.NewReader(`{}`))
	req.Header.Set("X-Signature", strings.Repeat("0", 40))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("bad signature on A: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	read := func(s *servedInlet, c *http.Client) statusJSON {
		resp, err := c.Get(s.url + "/dashboard/status.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var st statusJSON
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			t.Fatalf("status.json: %v", err)
		}
		return st
	}
	ca, cb := a.signedInClient(t, "ops@example.com", "a-long-password"), b.signedInClient(t, "ops@example.com", "a-long-password")
	// Each instance flushes and reloads every flush interval; the wait is
	// long because two servers, their flushers and the suite share the CPU.
	var sa, sb statusJSON
	if !testutil.Eventually(90*time.Second, func() bool {
		sa, sb = read(a, ca), read(b, cb)
		same := sb.LastHour == sa.LastHour && len(sb.Recent) == len(sa.Recent)
		return same && sb.LastHour.Requests == 2 && sb.LastHour.Accepted == 1 && sb.LastHour.Refused == 1 && len(sb.Recent) == 2
	}) {
		t.Fatalf("B shows %+v, A shows %+v; want both: 2 requests, 1 accepted, 1 refused", sb, sa)
	}
	if sb.Recent[1].Outcome != "accepted" || sb.Recent[0].Outcome != "bad_signature" {
		t.Errorf("B shows the deliveries as %+v", sb.Recent)
	}
}
