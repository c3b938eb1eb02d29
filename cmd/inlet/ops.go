package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/retention"
	"github.com/inlet-dev/inlet/internal/store"
)

// storeCloseTimeout bounds closing the pool at exit: database/sql waits for
// running queries, and a database that stopped answering must not keep a
// stopped Inlet from exiting.
const storeCloseTimeout = 5 * time.Second

// newMetrics builds the registry and watches the store's pool.
func newMetrics(st *store.Store) *metrics.Metrics {
	m := metrics.New(version)
	m.WatchDB(string(st.Dialect()), st.PoolStats)
	return m
}

// warnSecretsAtRest says at start when shared secrets are kept in plaintext.
func warnSecretsAtRest(cfg *config.Config, log *slog.Logger) {
	if cfg.EncryptionKey != "" {
		return
	}
	log.Warn("ENCRYPTION_KEY is not set: Segment shared secrets are stored in plaintext in the database; "+
		"set it (openssl rand -hex 32) and run `inlet secret encrypt` once to encrypt existing ones",
		"setting", "ENCRYPTION_KEY")
}

// startRetention starts the background deletion when RETENTION_DAYS is set;
// it returns nil when retention is off.
func startRetention(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger, m *metrics.Metrics) (*retention.Retention, error) {
	if cfg.RetentionDays == 0 {
		log.Info("retention is off: events are kept forever (set RETENTION_DAYS to delete old ones)")
		return nil, nil
	}
	r, err := retention.New(st, retention.Options{Days: cfg.RetentionDays, Logger: log, Observer: m.RetentionPass})
	if err != nil {
		return nil, err
	}
	r.Start(ctx)
	log.Info("retention is on", "days", cfg.RetentionDays, "first_pass_in", "1m", "every", "1h")
	return r, nil
}

// closeStore closes the pool, giving up after timeout.
func closeStore(st *store.Store, log *slog.Logger, timeout time.Duration) {
	done := make(chan error, 1)
	go func() { done <- st.Close() }()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("closing the database", "err", err)
		}
	case <-time.After(timeout):
		log.Warn("database did not close in time; exiting anyway", "waited", timeout.String())
	}
}
