// Package store owns the database: opening PostgreSQL or the embedded SQLite
// default, migrating it, and every query Inlet makes. Nothing above it sees
// *gorm.DB; it returns domain values and the errors declared here.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the SQL flavour behind a Store.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

var (
	// ErrNotFound is returned when the asked-for row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a unique value is already taken.
	ErrConflict = errors.New("already exists")
)

// Store is the one handle on the database.
type Store struct {
	db      *gorm.DB
	sql     *sql.DB
	dialect Dialect
	where   string // safe description for logs (no password)
	cipher  *secretCipher
}

// Options tune Open; the zero value is fine.
type Options struct {
	// EncryptionKey, when set, encrypts shared secrets at rest.
	EncryptionKey string
	// MaxOpenConns caps the pool; 0 picks a default per dialect.
	MaxOpenConns int
}

// Open connects to PostgreSQL when databaseURL is set, otherwise to the
// embedded SQLite file inside dataDir. It does not migrate.
func Open(ctx context.Context, databaseURL, dataDir string, opts Options) (*Store, error) {
	gcfg := &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		PrepareStmt:            false,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		// Opening does not connect: a PostgreSQL that is still starting is
		// serve's to wait for (DATABASE_WAIT), not a failed open.
		DisableAutomaticPing: true,
	}
	s := &Store{}
	var err error
	if databaseURL != "" {
		s.dialect = Postgres
		s.where = redactURL(databaseURL)
		s.db, err = gorm.Open(postgres.New(postgres.Config{DSN: withConnectTimeout(databaseURL)}), gcfg)
	} else {
		s.dialect = SQLite
		if err := os.MkdirAll(dataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data dir %q: %w", dataDir, err)
		}
		path := filepath.Join(dataDir, "inlet.db")
		s.where = path
		// WAL lets the dashboard read while the ingester writes; synchronous=FULL
		// makes every acknowledged commit survive a power cut, not just a crash.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
			"&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
		s.db, err = gorm.Open(sqlite.Open(dsn), gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database at %s: %w", s.dialect, s.where, err)
	}
	s.sql, err = s.db.DB()
	if err != nil {
		return nil, fmt.Errorf("database handle: %w", err)
	}
	maxOpen := opts.MaxOpenConns
	if maxOpen == 0 {
		maxOpen = 16
		if s.dialect == SQLite {
			maxOpen = 4
		}
	}
	s.sql.SetMaxOpenConns(maxOpen)
	s.sql.SetMaxIdleConns(maxOpen)
	s.sql.SetConnMaxIdleTime(5 * time.Minute)
	if opts.EncryptionKey != "" {
		s.cipher, err = newSecretCipher(opts.EncryptionKey)
		if err != nil {
			return nil, err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.sql.PingContext(pctx); err != nil {
		// A database that is not up yet is not fatal: readiness reports it and
		// the ingester answers 503 until it comes.
		slog.Warn("database not reachable yet", "dialect", s.dialect, "at", s.where, "err", err)
	}
	return s, nil
}

// Dialect says which database this store talks to.
func (s *Store) Dialect() Dialect { return s.dialect }

// Where describes the database location without credentials.
func (s *Store) Where() string { return s.where }

// Close releases the pool.
func (s *Store) Close() error { return s.sql.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sql.PingContext(ctx) }

// PoolStats exposes connection pool figures for metrics.
func (s *Store) PoolStats() sql.DBStats { return s.sql.Stats() }

// tx is the store's one transaction helper: fn's queries all go through tx
// and commit together, or roll back together when fn returns an error.
func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(fn)
}
