package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestHealthURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ listen, want string }{
		{"", "http://127.0.0.1:8080/healthz"},
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:9000", "http://127.0.0.1:9000/healthz"},
		{"[::]:9000", "http://127.0.0.1:9000/healthz"},
		{"127.0.0.1:7000", "http://127.0.0.1:7000/healthz"},
		{"[::1]:7000", "http://[::1]:7000/healthz"},
		{"localhost:7000", "http://localhost:7000/healthz"},
	} {
		got, err := healthURL(tc.listen)
		if err != nil || got != tc.want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", tc.listen, got, err, tc.want)
		}
	}
	for _, bad := range []string{"8080", ":0", "nonsense"} {
		if _, err := healthURL(bad); err == nil || !strings.Contains(err.Error(), "LISTEN_ADDR") {
			t.Errorf("healthURL(%q) = %v, want an error naming LISTEN_ADDR", bad, err)
		}
	}
}

func TestHealthcheckCommand(t *testing.T) {
	t.Parallel()
	var code = http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(code)
	}))
	defer srv.Close()
	listen := strings.TrimPrefix(srv.URL, "http://")
	check := func() error {
		env := map[string]string{"LISTEN_ADDR": listen}
		return run(context.Background(), []string{"healthcheck"}, func(k string) string { return env[k] }, nil, io.Discard, io.Discard)
	}
	if err := check(); err != nil {
		t.Fatalf("healthy server: %v", err)
	}
	code = http.StatusServiceUnavailable
	if err := check(); err == nil {
		t.Fatal("a 503 counted as healthy")
	}
	srv.Close()
	if err := check(); err == nil {
		t.Fatal("nothing listening counted as healthy")
	}
}

// TestServeOperations starts the real serve on each store and checks what an
// operator relies on: the start log names the store, warns about plaintext
// secrets, says whether retention runs; /healthz, the healthcheck command and
// /metrics work; the stop signal ends it cleanly and promptly.
func TestServeOperations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		env       func(t *testing.T) map[string]string
		storeLine string
		dbName    string
	}{
		{"sqlite", func(t *testing.T) map[string]string { return map[string]string{"DATA_DIR": testdb.SQLiteDir(t)} },
			"using the embedded SQLite store; set DATABASE_URL to a PostgreSQL database for production", "sqlite"},
		{"postgres", func(t *testing.T) map[string]string { return map[string]string{"DATABASE_URL": testdb.PostgresURL(t)} },
			"using PostgreSQL", "postgres"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := tc.env(t)
			env["RETENTION_DAYS"] = "30"
			env["SHUTDOWN_TIMEOUT"] = "5s"
			s := startServe(t, env)

			if len(s.logLines(t, tc.storeLine)) != 1 {
				t.Errorf("no start line %q:\n%s", tc.storeLine, s.logs)
			}
			if w := s.logLines(t, "ENCRYPTION_KEY is not set"); len(w) != 1 || w[0]["level"] != "WARN" {
				t.Errorf("no ENCRYPTION_KEY warning at start:\n%s", s.logs)
			}
			if r := s.logLines(t, "retention is on"); len(r) != 1 || r[0]["days"] != float64(30) {
				t.Errorf("no retention line with days=30:\n%s", s.logs)
			}
			if code, _ := s.get(t, "/healthz"); code != http.StatusOK {
				t.Errorf("/healthz: %d", code)
			}
			var out bytes.Buffer
			listen := strings.TrimPrefix(s.url, "http://")
			if err := run(context.Background(), []string{"healthcheck"}, func(k string) string {
				return map[string]string{"LISTEN_ADDR": listen}[k]
			}, nil, &out, io.Discard); err != nil {
				t.Errorf("inlet healthcheck against the running server: %v", err)
			}
			// Before a secret is saved Segment is told to retry, and the
			// metrics say so.
			if code := s.postFixture(t, "track.json"); code != http.StatusServiceUnavailable {
				t.Errorf("webhook before a secret: %d, want 503", code)
			}
			code, body := s.get(t, "/metrics")
			if code != http.StatusOK {
				t.Fatalf("/metrics: %d %s", code, body)
			}
			for _, want := range []string{
				`inlet_build_info{version="dev"} 1`,
				`inlet_deliveries_total{outcome="no_secret",source="webhook"} 1`,
				`go_sql_max_open_connections{db_name="` + tc.dbName + `"}`,
				`inlet_ingest_queue_depth 0`,
			} {
				if !strings.Contains(body, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}

			took, err := s.stop()
			if err != nil {
				t.Fatalf("serve returned %v after the stop signal:\n%s", err, s.logs)
			}
			if took > 5*time.Second+storeCloseTimeout {
				t.Errorf("shutdown took %s, more than SHUTDOWN_TIMEOUT plus the store's close bound", took)
			}
			if len(s.logLines(t, "stopped")) != 1 {
				t.Errorf("no final 'stopped' line:\n%s", s.logs)
			}
		})
	}
}

func TestHelpListsEverySettingAndHealthcheck(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	for _, s := range config.Settings {
		if !strings.Contains(help, "  "+s.Name+" ") {
			t.Errorf("--help does not list %s", s.Name)
		}
	}
	if !strings.Contains(help, "inlet healthcheck") {
		t.Error("--help does not mention inlet healthcheck")
	}
}
