package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Issue 19 item 16: `inlet secret set` on a running installation applies
// within 2 s on every instance, and says so. Two servers share one
// database; each has answered with the old state (no secret: 503; then the
// first secret), so both have it cached when the CLI saves the next one.
func TestSecretSetAppliesWithin2sOnEveryInstance(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.PostgresURL(t)}
	if _, errOut, err := runWith(t, env, "", "migrate", "up"); err != nil {
		t.Fatalf("migrate: %v %s", err, errOut)
	}
	servers := []*servedInlet{startServe(t, env), startServe(t, env)}
	body, _ := fixture(t, "identify.json")
	post := func(s *servedInlet, secret string) int {
		req, _ := http.NewRequest(http.MethodPost, s.url+"/api/public/webhooks/segment", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", segment.Sign([]byte(secret), body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("post: %v", err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, s := range servers {
		if code := post(s, "not-set-yet-0123456789abcdef"); code != http.StatusServiceUnavailable {
			t.Fatalf("instance %d before any secret: %d, want 503", i, code)
		}
	}
	for step, secret := range []string{"first-secret-0123456789abcdef", "second-secret-0123456789abcdef"} {
		out, errOut, err := runWith(t, env, secret+"\n", "secret", "set")
		if err != nil {
			t.Fatalf("secret set: %v %s", err, errOut)
		}
		saved := time.Now()
		if !strings.Contains(out, "within 2 s") {
			t.Errorf("secret set does not say when running servers apply it:\n%s", out)
		}
		for i, s := range servers {
			for post(s, secret) != http.StatusOK {
				if time.Since(saved) > 2*time.Second {
					t.Fatalf("step %d: instance %d still refuses the new secret 2 s after `secret set` returned", step, i)
				}
				time.Sleep(50 * time.Millisecond) // polling the observable answer
			}
		}
		t.Logf("step %d: both instances applied the new secret %v after `secret set`", step, time.Since(saved).Round(time.Millisecond))
	}
}
