package store

import (
	"database/sql"

	"gorm.io/gorm"
)

// The one way the store speaks SQL. Simple reads and writes of one table use
// GORM's builder with the table's row model (workspaces, admins, sessions,
// write keys, deliveries). Statements beyond what the builder says well —
// batched multi-row upserts, conditional claims, row-value comparisons,
// INSERT … SELECT, window functions — are SQL written out and run through
// these helpers, on GORM, with ? placeholders on both dialects and times
// bound as dbTime. Rows come back with GORM's Scan into a row struct (its
// fields named after the columns), never through hand-written rows.Scan
// column lists; only reads too large to hold at once stream, through each.
// The events insert (events_insert*.go) builds its own statements: it is
// the webhook's hot path.

// exec runs a statement and says how many rows it changed.
func exec(db *gorm.DB, q string, args ...any) (int64, error) {
	res := db.Exec(q, args...)
	return res.RowsAffected, res.Error
}

// first scans the one row q returns into dst (a row struct, or one value);
// ErrNotFound when there is none.
func first(db *gorm.DB, dst any, q string, args ...any) error {
	res := db.Raw(q, args...).Scan(dst)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// all scans every row q returns into dst, a pointer to a slice of row
// structs (or of one value). For reads bounded by a LIMIT or a batch.
func all(db *gorm.DB, dst any, q string, args ...any) error {
	return db.Raw(q, args...).Scan(dst).Error
}

// each streams the rows q returns, scanning one at a time into a T (by
// GORM, by column name) and calling fn with it, so a read of many rows holds
// one row at a time. fn's error stops the read and is returned.
func each[T any](db *gorm.DB, fn func(T) error, q string, args ...any) error {
	rows, err := db.Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	return eachRow(db, rows, fn)
}

// eachRow is each for rows already open (a query built in steps); it closes
// them.
func eachRow[T any](db *gorm.DB, rows *sql.Rows, fn func(T) error) error {
	defer rows.Close()
	for rows.Next() {
		var r T
		if err := db.ScanRows(rows, &r); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
