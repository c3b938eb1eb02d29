package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// sqliteTime is the one text layout times take in SQLite, so that comparing
// the stored text compares the instants (the migrations rely on it). The
// SQLite driver's own layout drops trailing zeros, which would make equal
// instants compare unequal, so the store never lets it format a time.
const sqliteTime = "2006-01-02 15:04:05.000000000+00:00"

// dbTime is how every time goes in and out of the store, on both databases:
// in models, in Where/Raw/Exec arguments, and in Scan destinations. Written,
// it is a timestamptz on PostgreSQL and sqliteTime text on SQLite; read, it
// accepts what either driver hands back (time.Time, or text). The zero time
// is NULL both ways, so one type serves nullable and NOT NULL columns (and
// a comparison with a zero time matches nothing: callers compare set times).
type dbTime struct{ time.Time }

// at wraps t for a query argument or a model field.
func at(t time.Time) dbTime { return dbTime{t} }

// GormValue lets GORM bind the time in the store's layout for its dialect.
func (t dbTime) GormValue(_ context.Context, db *gorm.DB) clause.Expr {
	if t.IsZero() {
		return clause.Expr{SQL: "NULL"}
	}
	if db.Dialector.Name() == string(SQLite) {
		return clause.Expr{SQL: "?", Vars: []any{t.UTC().Format(sqliteTime)}}
	}
	return clause.Expr{SQL: "?", Vars: []any{t.UTC()}}
}

// Value is for GORM's schema (it makes dbTime a time column); every write
// goes through GormValue.
func (t dbTime) Value() (driver.Value, error) {
	if t.IsZero() {
		return nil, nil
	}
	return t.UTC(), nil
}

// Scan reads a time from either dialect: PostgreSQL hands back time.Time,
// SQLite the text the store wrote (or a time its driver parsed from it).
func (t *dbTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		t.Time = time.Time{}
		return nil
	case time.Time:
		t.Time = x.UTC()
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	}
	return fmt.Errorf("scan time from %T", v)
}

func (t *dbTime) parse(s string) error {
	for _, layout := range []string{sqliteTime, time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05"} {
		if p, err := time.Parse(layout, s); err == nil {
			t.Time = p.UTC()
			return nil
		}
	}
	return fmt.Errorf("scan time from %q: unknown layout", s)
}

// ptr is the time as a nullable domain value: nil for NULL.
func (t dbTime) ptr() *time.Time {
	if t.IsZero() {
		return nil
	}
	v := t.Time
	return &v
}
