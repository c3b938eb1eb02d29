package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/inlet-dev/inlet/internal/redact"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/timers"
	"github.com/inlet-dev/inlet/web"
)

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openServeStore is openStore for serve, which also learns whether the
// embedded database file is about to be created (a new DATA_DIR, or the
// wrong working folder), to say so loudly once it is.
func openServeStore(ctx context.Context, getenv func(string) string, logw io.Writer) (*config.Config, *store.Store, *slog.Logger, bool, error) {
	newDB := false
	if cfg, err := config.Load(getenv); err == nil && cfg.UsesEmbedded() {
		_, statErr := os.Stat(cfg.SQLitePath())
		newDB = errors.Is(statErr, fs.ErrNotExist)
	}
	cfg, st, log, err := openStore(ctx, getenv, logw)
	return cfg, st, log, newDB, err
}

// openStore loads config, opens and migrates the store: the start shared by
// serve and the admin subcommands.
func openStore(ctx context.Context, getenv func(string) string, logw io.Writer) (*config.Config, *store.Store, *slog.Logger, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(cfg, logw)
	slog.SetDefault(log)
	if err := checkDataDir(cfg); err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, store.Options{EncryptionKey: cfg.EncryptionKey})
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, st, log, nil
}

// migrate brings the schema up to date, logging each migration applied.
func migrate(ctx context.Context, st *store.Store, log *slog.Logger) error {
	applied, err := st.Migrate(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	for _, m := range applied {
		log.Info("migration applied", "file", m)
	}
	return nil
}

// waitForDatabase is serve's start on PostgreSQL: while the database refuses
// connections or says it is starting (store.StartingUp) — compose brings
// both up together, a restart stops both — it waits up to DATABASE_WAIT,
// saying so every few seconds. Any other error (bad credentials, an unknown
// database) stops at once; SQLite never waits, and neither do the CLI
// commands, which do not call this.
func waitForDatabase(ctx context.Context, cfg *config.Config, st *store.Store, log *slog.Logger) error {
	if st.Dialect() != store.Postgres {
		return nil
	}
	start := time.Now()
	var lastLog time.Time
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := st.Ping(pctx)
		cancel()
		if err == nil {
			if !lastLog.IsZero() {
				log.Info("DATABASE_WAIT: PostgreSQL accepts connections", "store", cfg.StoreDescription(), "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !store.StartingUp(err) {
			return fmt.Errorf("%s: %w", cfg.StoreDescription(), err)
		}
		waited := time.Since(start)
		if waited >= cfg.DatabaseWait {
			return fmt.Errorf("%s still not accepting connections after DATABASE_WAIT=%s: %w", cfg.StoreDescription(), cfg.DatabaseWait, err)
		}
		if time.Since(lastLog) >= 5*time.Second {
			log.Warn("DATABASE_WAIT: PostgreSQL is not accepting connections yet; waiting for it",
				"store", cfg.StoreDescription(), "waited", waited.Round(time.Second).String(), "up_to", cfg.DatabaseWait.String(), "err", err)
			lastLog = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// gcPercent is the garbage collector's target while serving, unless GOGC is
// set. The live heap is small (tens of MB) but every webhook allocates its
// body and parse; at Go's default of 100 the collector took 12-15% of the
// server's CPU at 8k events/s. 400 trades some memory for that CPU
// (docs/benchmarks.md).
//
// 400 alone lets the heap grow to five times what is live, and what is live
// under a flood of bodies is what the read and in-flight budgets allow
// (security review item 6). So a soft memory limit comes with it, unless
// GOMEMLIMIT is set: below it GOGC=400 keeps the CPU low; near it the
// collector runs as often as needed instead of the heap growing further.
const (
	gcPercent     = 400
	gcMemoryLimit = 192 << 20
)

func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit)
	}
	cfg, st, log, newDB, err := openServeStore(ctx, getenv, stdout)
	if err != nil {
		return err
	}
	defer closeStore(st, log, storeCloseTimeout) // after everything below has stopped
	if cfg.UsesEmbedded() {
		log.Info("using the embedded SQLite store; set DATABASE_URL to a PostgreSQL database for production", "store", cfg.StoreDescription(), "path", cfg.SQLitePath())
	} else {
		log.Info("using PostgreSQL", "store", cfg.StoreDescription())
	}
	warnSecretsAtRest(cfg, log)
	if err := waitForDatabase(ctx, cfg, st, log); err != nil {
		return err
	}
	if err := migrate(ctx, st, log); err != nil {
		return err
	}
	if newDB {
		log.Warn("created a NEW, EMPTY SQLite database: no earlier events, admins or settings are in it. "+
			"If this Inlet had data, stop it and set DATA_DIR to the folder holding its inlet.db (or DATABASE_URL to its PostgreSQL)",
			"path", cfg.SQLitePath(), "data_dir", cfg.DataDir)
	}
	def, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		return err
	}
	if err := auth.EnsureFirstAdmin(ctx, st, cfg.AdminEmail, cfg.AdminPassword, log); err != nil {
		return err
	}
	if !def.Secret.IsSet() {
		log.Warn("the default workspace has no Segment shared secret yet; webhooks answer 503 (Segment retries) until one is set",
			"set_with", `printf %s "$SECRET" | inlet secret set`,
			"in_docker_compose", `printf %s "$SECRET" | docker compose exec -T inlet inlet secret set`)
	}

	writers := cfg.IngestWriters
	if st.Dialect() == store.SQLite {
		writers = 1 // SQLite has one writer; more would only wait on its lock
	}
	m := newMetrics(st)
	// Profiles follow the stored events in the background; the gate in
	// front of the store drops events of erased (suppressed) ids and wakes
	// the follower after each commit.
	supp := profiles.NewSuppressions(st)
	gate := &profiles.Gate{Inner: st, Suppressions: supp}
	var follower *profiles.Follower
	// Audiences follow the same feed behind the profiles; their window
	// edges are durable timers, fired by whichever instance claims them.
	var engine *audiences.Engine
	var timerWorker *timers.Worker
	if cfg.Profiles {
		opts := profileOptions(cfg)
		opts.Suppressions, opts.Logger, opts.OnMergeRefused = supp, log, m.MergeRefused
		engine = audiences.NewEngine(st, audiences.Options{Logger: log, Limits: audienceLimits(cfg), HistoryDays: cfg.RetentionDays})
		opts.Applied = engine.Notify
		opts.Handoff = engine
		follower = profiles.NewFollower(st, opts)
		timerWorker = timers.New(st, timers.Options{Logger: log})
		timerWorker.Register(audiences.TimerKind, engine.FireTimers)
		gate.AfterCommit = follower.Notify
		follower.Start(ctx)
		engine.Start(ctx)
	} else {
		log.Info("profiles are off (PROFILES=off): no profile is kept from new events")
	}
	ing := ingest.New(gate, ingest.Options{
		QueueRequests: cfg.IngestQueue, BatchEvents: cfg.IngestBatch, Writers: writers, Timeout: cfg.IngestTimeout,
		InflightBytes: cfg.IngestInflight, ReadBytes: cfg.IngestRead,
		Observer: m, Suppress: supp.Filter,
	})
	m.WatchQueue(ing.QueueDepth)
	// Connection status: kept in memory on the request path, saved every few
	// seconds and at shutdown, reloaded here so a restart keeps it.
	deliveries := status.NewAggregator(st, status.Options{Logger: log})
	deliveries.Start(ctx)
	a, err := auth.New(ctx, st, auth.Options{SessionKey: cfg.SessionKey, Secure: cfg.SecureCookies()})
	if err != nil {
		return err
	}
	// Journeys follow the stored events too, and send from their outbox.
	mail := &email.Service{Store: st, Defaults: email.DefaultsFrom(cfg), BaseURL: cfg.BaseURL}
	// Waits run on the process's timer worker (one worker claims every
	// kind); webhook steps post like destinations do (guard, timeout, retries).
	// The worker starts once every kind has its handler: a timer claimed
	// without one would wait for its lease to end.
	if timerWorker == nil {
		timerWorker = timers.New(st, timers.Options{Logger: log})
	}
	jrn := journeys.New(st, mail, journeys.Options{Logger: log, RetryFor: cfg.MessageRetryFor, Rate: cfg.EmailRate,
		BehindProfiles: cfg.Profiles, Timers: timerWorker,
		Webhooks:      delivery.NewSender(newDeliveryGuard(cfg), cfg.DestinationTimeout, 4, version),
		WebhookPolicy: delivery.Policy{Schedule: cfg.DestinationSchedule, RetryFor: cfg.DestinationRetryFor}})
	jrn.Start(ctx)
	timerWorker.Start(ctx)
	if after := gate.AfterCommit; after != nil {
		gate.AfterCommit = func() { after(); jrn.Notify() }
	} else {
		gate.AfterCommit = jrn.Notify
	}
	srv, err := web.New(web.Deps{Config: cfg, Store: st, Ingester: ing, Logger: log, Auth: a,
		Suppressions: supp, Profiles: profileOptions(cfg), Audiences: engine, Journeys: jrn, Email: mail,
		Status: deliveries, Attempts: status.Multi{deliveries, m}, Metrics: m})
	if err != nil {
		return err
	}
	if err := srv.Open(cfg.ListenAddr); err != nil {
		return err
	}
	ret, err := startRetention(ctx, cfg, st, log, m)
	if err != nil {
		return err
	}
	dests := newDeliveryManager(cfg, st, log, m, supp)
	dests.Start(ctx)
	log.Info("inlet listening", "addr", srv.Addr(), "url", redact.URL(cfg.BaseURL),
		"webhook", cfg.BaseURL+"/api/public/webhooks/segment", "version", version)
	if why := cfg.SegmentCannotReach(); why != "" {
		log.Warn("Segment cannot reach BASE_URL "+cfg.BaseURL+": "+why+". Set BASE_URL to a public https URL that forwards to this server "+
			"(a reverse proxy, or a tunnel while trying Inlet out); see the README section \"Expose Inlet to Segment\"",
			"base_url", cfg.BaseURL, "help", "docs/expose.md, served at "+cfg.BaseURL+config.ExposeDocsPath)
	}

	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
	defer cancel()
	// Order matters: stop taking requests and let in-flight ones finish (they
	// wait on the ingester), then commit whatever is still queued.
	var errs []error
	if err := srv.Close(sctx); err != nil {
		errs = append(errs, err)
	}
	if err := ing.Close(sctx); err != nil {
		errs = append(errs, err)
	}
	// Unsent deliveries are safe: they are sent again from each cursor by
	// whichever instance takes the released lease.
	if err := dests.Close(sctx); err != nil {
		log.Warn("delivery workers did not stop in time", "err", err)
	}
	if err := timerWorker.Close(sctx); err != nil {
		log.Warn("timers did not stop in time", "err", err)
	}
	jrn.Close()
	if follower != nil {
		if err := follower.Close(sctx); err != nil {
			log.Warn("profiles follower did not stop in time", "err", err)
		}
	}
	if engine != nil {
		if err := engine.Close(sctx); err != nil {
			log.Warn("audiences did not stop in time", "err", err)
		}
	}
	if ret != nil {
		if err := ret.Close(sctx); err != nil {
			log.Warn("retention did not stop in time", "err", err)
		}
	}
	// Last, so it includes the final deliveries. Losing it loses no event,
	// so a failure is a warning, not an unclean shutdown.
	if err := deliveries.Close(sctx); err != nil {
		log.Warn("connection status not saved at shutdown", "err", err)
	}
	if err := errors.Join(errs...); err != nil {
		log.Error("unclean shutdown", "err", err)
		return err
	}
	log.Info("stopped")
	_ = os.Stdout.Sync()
	return nil
}
