package main

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// Security review item 11: a password in DATABASE_URL, in the userinfo or
// as ?password=, never reaches the logs of a running server.
func TestServeRedactsDatabasePassword(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts local connections, so any password works.
	const pw = "pw-Must-Not-Leak-77"
	u.User = url.UserPassword(u.User.Username(), pw)
	q := u.Query()
	q.Set("password", pw)
	u.RawQuery = q.Encode()
	s := startServe(t, map[string]string{"DATABASE_URL": u.String()})
	if code, _ := s.get(t, "/healthz"); code != 200 {
		t.Fatalf("/healthz: %d\n%s", code, s.logs)
	}
	if _, err := s.stop(); err != nil {
		t.Fatal(err)
	}
	logs := s.logs.String()
	if strings.Contains(logs, pw) {
		t.Fatalf("the database password reached the logs:\n%s", logs)
	}
	if len(s.logLines(t, "using PostgreSQL")) != 1 {
		t.Fatalf("no start line naming the database:\n%s", logs)
	}
}

// Security review item 10: `inlet secret set` refuses a short secret, and
// never prints more than a quarter of the one it saves.
func TestSecretSetRefusesShortSecrets(t *testing.T) {
	t.Parallel()
	eachStoreAtRest(t, func(t *testing.T, db atRest) {
		env := map[string]string{"LOG_LEVEL": "error"}
		for k, v := range db.env {
			env[k] = v
		}
		var out strings.Builder
		err := run(context.Background(), []string{"secret", "set", "--init"}, func(k string) string { return env[k] }, strings.NewReader("ab\n"), &out, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "at least 16") {
			t.Fatalf("2-character secret: err %v, out %q", err, out.String())
		}
		if cur, _ := db.raw(t); cur != "" {
			t.Fatalf("refused secret stored: %q", cur)
		}
		said := db.cli(t, "", "0123456789abcdef\n", "secret", "set")
		if !strings.Contains(said, "ending in …cdef") {
			t.Fatalf("secret set said %q", said)
		}
	})
}
