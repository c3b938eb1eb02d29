package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// The profile, token and erasure queries (profiles_*.go, apitokens.go,
// suppressions.go, feed_tail.go) are raw SQL through database/sql: batched
// multi-row upserts, row-value comparisons and streaming reads inside one
// locked transaction. These helpers serve them on both dialects.

// rebind turns ? placeholders into $n for PostgreSQL.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, '$')
			out = fmt.Appendf(out, "%d", n)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// timeArg is a time as a query argument in the store's layout for its dialect.
func (s *Store) timeArg(t time.Time) any {
	if s.dialect == SQLite {
		return t.UTC().Format(sqliteTime)
	}
	return t.UTC()
}

// nullTime scans a nullable time from either dialect.
type nullTime struct {
	Time  time.Time
	Valid bool
}

func (t *nullTime) Scan(v any) error {
	if v == nil {
		t.Valid = false
		return nil
	}
	var d dbTime
	if err := d.Scan(v); err != nil {
		return err
	}
	t.Time, t.Valid = d.Time, true
	return nil
}

// withSQLTx runs fn in one database/sql transaction, committing when it
// returns nil.
func (s *Store) withSQLTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
