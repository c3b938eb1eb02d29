package main

import (
	"net/http"
	"testing"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// Issue 13 item 1, through the real server on both stores: save A (the
// secret Segment signs with), then B, then C within the grace — A still
// verifies, so Segment's deliveries are not refused with a final 401.
func TestSecretSavedTwiceWithinGraceKeepsTheFirstVerifying(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]func(t *testing.T) map[string]string{
		"postgres": func(t *testing.T) map[string]string { return map[string]string{"DATABASE_URL": testdb.PostgresURL(t)} },
		"sqlite":   func(t *testing.T) map[string]string { return map[string]string{"DATA_DIR": testdb.SQLiteDir(t)} },
	} {
		t.Run(name, func(t *testing.T) {
			e := env(t) // LOG_LEVEL stays unset: startServe waits for the info line "inlet listening"
			for i, secret := range []string{fixtureSecret, "second-secret-0123456789abcdef", "third-secret-0123456789abcdef"} {
				args := []string{"secret", "set"}
				if i == 0 {
					args = append(args, "--init")
				}
				if _, errOut, err := runWith(t, e, secret+"\n", args...); err != nil {
					t.Fatalf("secret set %d: %v %s", i, err, errOut)
				}
			}
			s := startServe(t, e)
			if code := s.postFixture(t, "identify.json"); code != http.StatusOK {
				t.Fatalf("delivery signed with the first of three secrets saved within the grace: %d, want 200", code)
			}
			// A fourth save drops the oldest (at most 3 verify at once).
			if _, errOut, err := runWith(t, e, "fourth-secret-0123456789abcdef\n", "secret", "set"); err != nil {
				t.Fatalf("fourth save: %v %s", err, errOut)
			}
			s.stop()
			s = startServe(t, e)
			if code := s.postFixture(t, "track.json"); code != http.StatusUnauthorized {
				t.Fatalf("after a fourth save the oldest secret still verifies: %d", code)
			}
		})
	}
}
