// Package webtest starts the real Inlet server for tests of every surface:
// one server on a free port over a fresh test database (internal/testdb),
// and the clients that talk to it the way their callers do — signed
// webhook senders, write-key senders for the Tracking API, a signed-in
// dashboard browser with its CSRF tokens, an API-token client and a
// headless Chromium. Tests live beside the surface they prove
// (web/webhook, web/trackingapi, web/dashboard, web/api) and start here;
// only tests that cross surfaces stay in package web.
package webtest

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web"
	"golang.org/x/crypto/bcrypt"
)

// Config loads a configuration from a map, as the environment would give it.
func Config(t testing.TB, env map[string]string) *config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// Deps is every dependency of a server over st, wired as serve.go wires
// them: one aggregator records the deliveries and shows them on the
// settings page. Tests replace what they watch (Attempts, Metrics, Logger)
// and leave Ingester to Open.
func Deps(t testing.TB, cfg *config.Config, st *store.Store, log *slog.Logger) web.Deps {
	t.Helper()
	// The cheapest bcrypt cost: sign-ins are many here and bcrypt under -race is slow.
	a, err := auth.New(context.Background(), st, auth.Options{SessionKey: cfg.SessionKey, Secure: cfg.SecureCookies(), PasswordCost: bcrypt.MinCost})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	deliveries := status.NewAggregator(nil, status.Options{Logger: log})
	return web.Deps{Config: cfg, Store: st, Logger: log, Auth: a, Status: deliveries, Attempts: deliveries, Metrics: metrics.New("test")}
}

// Open builds the real server from deps, with an ingester over ins (the
// store itself, or something in front of it), listens on a free port
// (127.0.0.1:0, so parallel tests never race for one) and shuts both down
// when the test ends. Every test server starts here.
func Open(t testing.TB, deps web.Deps, ins ingest.Inserter, opts ingest.Options) (*web.Server, *ingest.Ingester) {
	t.Helper()
	if opts.Timeout == 0 {
		opts.Timeout = 2 * time.Second
	}
	ing := ingest.New(ins, opts)
	deps.Ingester = ing
	srv, err := web.New(deps)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	if err := srv.Open("127.0.0.1:0"); err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		_ = ing.Close(ctx)
	})
	return srv, ing
}

// Logger shows the server's log lines only when a test fails.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(logWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type logWriter struct{ t testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
