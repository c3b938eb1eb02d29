package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// runCLI runs `inlet args...` against dbURL with stdin, as main would.
func runCLI(t *testing.T, dbURL, stdin string, args ...string) (string, error) {
	t.Helper()
	env := map[string]string{"DATABASE_URL": dbURL, "LOG_LEVEL": "error"}
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), err
}

func TestAdminCommands(t *testing.T) {
	t.Parallel()
	dbURL := testdb.PostgresURL(t)
	ctx := context.Background()

	out, err := runCLI(t, dbURL, "first-password-1\n", "admin", "create", "--email", "Ops@Example.com")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !strings.Contains(out, "ops@example.com created") {
		t.Fatalf("create said %q", out)
	}

	st, err := store.Open(ctx, dbURL, "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := auth.New(ctx, st, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SignIn(ctx, "10.0.0.1", "ops@example.com", "first-password-1"); err != nil {
		t.Fatalf("created admin cannot sign in: %v", err)
	}

	if _, err := runCLI(t, dbURL, "another-password\n", "admin", "create", "--email", "ops@example.com"); err == nil ||
		!strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate create: %v", err)
	}

	out, err = runCLI(t, dbURL, "second-password-2\n", "admin", "reset-password", "--email", "OPS@example.com")
	if err != nil || !strings.Contains(out, "reset") {
		t.Fatalf("reset: %q %v", out, err)
	}
	if _, err := svc.SignIn(ctx, "10.0.0.2", "ops@example.com", "first-password-1"); err == nil {
		t.Fatal("old password still works after reset")
	}
	if _, err := svc.SignIn(ctx, "10.0.0.3", "ops@example.com", "second-password-2"); err != nil {
		t.Fatalf("new password refused: %v", err)
	}

	for name, tc := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"no email":            {"password-123\n", []string{"admin", "create"}, "--email"},
		"bad email":           {"password-123\n", []string{"admin", "create", "--email", "not-an-email"}, "not an email"},
		"short password":      {"short\n", []string{"admin", "create", "--email", "b@example.com"}, "at least 8"},
		"no password":         {"", []string{"admin", "create", "--email", "b@example.com"}, "no password on stdin"},
		"unknown admin":       {"password-123\n", []string{"admin", "reset-password", "--email", "nobody@example.com"}, "no admin"},
		"unknown subcommand":  {"", []string{"admin", "delete"}, "unknown subcommand"},
		"too long a password": {strings.Repeat("p", 73) + "\n", []string{"admin", "create", "--email", "b@example.com"}, "at most 72"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := runCLI(t, dbURL, tc.stdin, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if n, _ := st.CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins after the refused commands, want 1", n)
	}
}
