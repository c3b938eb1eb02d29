package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"
)

// The destination queries are SQL written out (conditional claims, upserts
// with excluded.*, INSERT … SELECT for replays) run through GORM, which
// binds the arguments for the dialect; these helpers keep them short.

// execResult is what an Exec reports.
type execResult struct{ rows int64 }

func (r execResult) RowsAffected() (int64, error) { return r.rows, nil }
func (r execResult) LastInsertId() (int64, error) { return 0, nil }

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return txExec(s.db.WithContext(ctx), q, args...)
}

func txExec(tx *gorm.DB, q string, args ...any) (sql.Result, error) {
	res := tx.Exec(q, args...)
	return execResult{res.RowsAffected}, res.Error
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.WithContext(ctx).Raw(q, args...).Rows()
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return s.db.WithContext(ctx).Raw(q, args...).Row()
}

// eachRow calls each for every row, then closes the rows.
func eachRow(rows *sql.Rows, each func() error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(); err != nil {
			return err
		}
	}
	return rows.Err()
}
