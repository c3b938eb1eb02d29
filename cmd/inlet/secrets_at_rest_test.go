package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // read the raw column on PostgreSQL

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

const testEncryptionKey = "test-encryption-key-0123456789abcdef"

// atRest is one empty database, reachable through Inlet's env and directly
// through database/sql (to read what is really stored).
type atRest struct {
	env map[string]string
	raw func(t *testing.T) (secret, previous string)
}

func eachStoreAtRest(t *testing.T, fn func(t *testing.T, db atRest)) {
	rawFrom := func(driver, dsn string) func(t *testing.T) (string, string) {
		return func(t *testing.T) (string, string) {
			t.Helper()
			conn, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Secrets live in workspace_secrets (migration 00015): the current
			// row has no expiry, the newest expiring one is the previous.
			var cur, prev string
			q := `SELECT COALESCE((SELECT s.secret FROM workspace_secrets s JOIN workspaces w ON w.id = s.workspace_id
				WHERE w.is_default AND s.expires_at IS NULL), ''),
				COALESCE((SELECT s.secret FROM workspace_secrets s JOIN workspaces w ON w.id = s.workspace_id
				WHERE w.is_default AND s.expires_at IS NOT NULL ORDER BY s.set_at DESC, s.id DESC LIMIT 1), '')`
			if err := conn.QueryRow(q).Scan(&cur, &prev); err != nil {
				t.Fatalf("read the raw secret column: %v", err)
			}
			return cur, prev
		}
	}
	t.Run("postgres", func(t *testing.T) {
		url := testdb.PostgresURL(t)
		fn(t, atRest{env: map[string]string{"DATABASE_URL": url}, raw: rawFrom("pgx", url)})
	})
	t.Run("sqlite", func(t *testing.T) {
		dir := testdb.SQLiteDir(t)
		fn(t, atRest{env: map[string]string{"DATA_DIR": dir}, raw: rawFrom("sqlite", filepath.Join(dir, "inlet.db"))})
	})
}

func (db atRest) cli(t *testing.T, key, stdin string, args ...string) string {
	t.Helper()
	env := map[string]string{"LOG_LEVEL": "error", "ENCRYPTION_KEY": key}
	for k, v := range db.env {
		env[k] = v
	}
	var out bytes.Buffer
	args = append(args, "--init") // the SQLite file is new in these tests
	if err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, io.Discard); err != nil {
		t.Fatalf("inlet %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}

func (db atRest) serve(t *testing.T, key string) *servedInlet {
	t.Helper()
	env := map[string]string{"ENCRYPTION_KEY": key}
	for k, v := range db.env {
		env[k] = v
	}
	return startServe(t, env)
}

func assertSealed(t *testing.T, stored, plain string) {
	t.Helper()
	if !strings.HasPrefix(stored, "enc:v1:") || strings.Contains(stored, plain) || strings.Contains(stored, plain[len(plain)-8:]) {
		t.Fatalf("secret stored as %q, want AES-GCM ciphertext (enc:v1:…) without the plaintext", stored)
	}
}

func TestSecretSavedWithKeyIsStoredEncryptedAndVerifies(t *testing.T) {
	t.Parallel()
	eachStoreAtRest(t, func(t *testing.T, db atRest) {
		db.cli(t, testEncryptionKey, fixtureSecret+"\n", "secret", "set")
		cur, _ := db.raw(t)
		assertSealed(t, cur, fixtureSecret)

		s := db.serve(t, testEncryptionKey)
		if w := s.logLines(t, "ENCRYPTION_KEY is not set"); len(w) != 0 {
			t.Errorf("warned about a missing ENCRYPTION_KEY that is set: %v", w)
		}
		if code := s.postFixture(t, "track.json"); code != http.StatusOK {
			t.Fatalf("webhook signed with the encrypted secret: %d, want 200\n%s", code, s.logs)
		}
		if strings.Contains(s.logs.String(), fixtureSecret) {
			t.Fatal("the secret reached the logs")
		}
	})
}

func TestSecretEncryptConvertsPlaintextRows(t *testing.T) {
	t.Parallel()
	eachStoreAtRest(t, func(t *testing.T, db atRest) {
		// Saved before ENCRYPTION_KEY existed: plaintext, and it works. Two
		// saves, so previous_secret holds a plaintext value too.
		const older = "older-shared-secret-9876543210"
		db.cli(t, "", older+"\n", "secret", "set")
		db.cli(t, "", fixtureSecret+"\n", "secret", "set")
		// Plaintext says so ("plain:"), so it is never mistaken for an
		// encrypted value (security review item 9).
		if cur, prev := db.raw(t); cur != "plain:"+fixtureSecret || prev != "plain:"+older {
			t.Fatalf("without a key the secrets are stored as %q, %q, want marked plaintext", cur, prev)
		}

		out := db.cli(t, testEncryptionKey, "", "secret", "encrypt")
		if !strings.Contains(out, "encrypted the secrets of 1 workspace") {
			t.Errorf("secret encrypt said %q", out)
		}
		cur, prev := db.raw(t)
		assertSealed(t, cur, fixtureSecret)
		assertSealed(t, prev, older)
		if out := db.cli(t, testEncryptionKey, "", "secret", "encrypt"); !strings.Contains(out, "of 0 workspace") {
			t.Errorf("second encrypt rewrote rows again: %q", out)
		}

		s := db.serve(t, testEncryptionKey)
		if code := s.postFixture(t, "identify.json"); code != http.StatusOK {
			t.Fatalf("webhook signed with the converted secret: %d, want 200\n%s", code, s.logs)
		}
		if _, err := s.stop(); err != nil {
			t.Fatal(err)
		}

		// Without the key the encrypted rows cannot be read: the store says so.
		st, err := store.Open(context.Background(), db.env["DATABASE_URL"], db.env["DATA_DIR"], store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if _, err := st.DefaultWorkspace(context.Background()); !errors.Is(err, store.ErrNoEncryptionKey) {
			t.Fatalf("reading an encrypted secret without the key: %v, want ErrNoEncryptionKey", err)
		}
	})
}
