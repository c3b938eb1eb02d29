// Package testdb gives tests a real, empty, migrated database: a fresh
// PostgreSQL database per call (dropped afterwards) or an SQLite file in a
// temp dir. Tests never mock the store.
//
// Open is the store most tests use: PostgreSQL, or SQLite when
// INLET_TEST_STORE=sqlite, so `make test` runs the whole suite on both stores.
//
// PostgreSQL is found through TEST_DATABASE_URL, else DATABASE_URL, else
// postgres://postgres@127.0.0.1:5432/postgres. When it is unreachable the test
// is skipped with a plain message, except under CI=true where that fails.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	redactpkg "github.com/inlet-dev/inlet/internal/redact"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the admin connection

	"github.com/inlet-dev/inlet/internal/store"
)

// AdminURL is the PostgreSQL server tests create their databases on.
func AdminURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// PostgresURL creates a fresh empty database and returns its URL; it is
// dropped when the test ends. Not migrated.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	Only(tb, "postgres")
	admin := AdminURL()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("PostgreSQL is required under CI=true but %s is unreachable: %v", redact(admin), err)
		}
		tb.Skipf("skipping: no PostgreSQL at %s (%v); set TEST_DATABASE_URL to run this test", redact(admin), err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "inlet_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
		db.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		tb.Fatalf("parse %s: %v", redact(admin), err)
	}
	u.Path = "/" + name
	return u.String()
}

// Open opens a migrated store on a fresh database of the store under test:
// PostgreSQL, or SQLite when INLET_TEST_STORE=sqlite.
func Open(tb testing.TB) *store.Store {
	tb.Helper()
	if os.Getenv("INLET_TEST_STORE") == "sqlite" {
		return SQLite(tb)
	}
	return Postgres(tb)
}

// Only skips tb when the run is for the other store. `make test` runs the
// suite twice, INLET_TEST_STORE=postgres then =sqlite, so a test tied to one
// store (and each half of Each) runs once, in its store's pass, instead of
// twice; with INLET_TEST_STORE unset (a plain `go test`) everything runs.
func Only(tb testing.TB, dialect string) {
	tb.Helper()
	if v := os.Getenv("INLET_TEST_STORE"); v != "" && v != dialect {
		tb.Skipf("%s only: this is the INLET_TEST_STORE=%s pass (make test runs it in the %s pass)", dialect, v, dialect)
	}
}

// SlowStore reports whether the store under test is the embedded SQLite in a
// race-detector build: its transpiled C then runs fully instrumented, and a
// commit of thousands of events takes seconds instead of milliseconds.
func SlowStore() bool { return raceDetector && os.Getenv("INLET_TEST_STORE") == "sqlite" }

// Patience stretches a commit deadline on a SlowStore and returns it as it
// is otherwise, so a test about what a large request does is not failed by
// the race detector's cost alone.
func Patience(d time.Duration) time.Duration {
	if SlowStore() {
		return 20 * d
	}
	return d
}

// Postgres opens a migrated store on a fresh PostgreSQL database.
func Postgres(tb testing.TB) *store.Store {
	tb.Helper()
	return open(tb, PostgresURL(tb), "")
}

// SQLite opens a migrated store on a fresh SQLite file.
func SQLite(tb testing.TB) *store.Store {
	tb.Helper()
	Only(tb, "sqlite")
	return open(tb, "", tb.TempDir())
}

// SQLiteDir is a fresh DATA_DIR for a test that runs the binary on the
// embedded store; it skips in the PostgreSQL pass like SQLite does.
func SQLiteDir(tb testing.TB) string {
	tb.Helper()
	Only(tb, "sqlite")
	return tb.TempDir()
}

func open(tb testing.TB, dsn, dir string) *store.Store {
	tb.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, dir, store.Options{})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatalf("migrate: %v", err)
	}
	if _, err := st.EnsureDefaultWorkspace(ctx); err != nil {
		tb.Fatalf("default workspace: %v", err)
	}
	return st
}

// Each runs fn once per dialect, as subtests "postgres" and "sqlite", so the
// same behaviour is proven on both stores.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
}

func redact(raw string) string { return redactpkg.URL(raw) }
