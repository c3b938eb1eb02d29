package store

import (
	"context"
	"fmt"
	"strings"
)

// ExplainListEvents shows how the database runs the exact query ListEvents
// would send for f: EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL (it runs the
// query), EXPLAIN QUERY PLAN on SQLite. It exists for cmd/explain-events and
// docs/events-performance.md, so the measured query cannot drift from the
// served one.
func (s *Store) ExplainListEvents(ctx context.Context, f EventFilter) (string, error) {
	return s.explain(ctx, f, func(q string) string { return q })
}

func (s *Store) explain(ctx context.Context, f EventFilter, wrap func(string) string) (string, error) {
	q, args, err := listEventsSQL(f)
	if err != nil {
		return "", err
	}
	q = wrap(q)
	prefix, cols := "EXPLAIN (ANALYZE, BUFFERS) ", 1
	if s.dialect == SQLite {
		prefix, cols = "EXPLAIN QUERY PLAN ", 4 // id, parent, notused, detail
	}
	rows, err := s.db.WithContext(ctx).Raw(prefix+q, args...).Rows()
	if err != nil {
		return "", fmt.Errorf("explain list events: %w", err)
	}
	defer rows.Close()
	var out []string
	// A hand scan: the plan's column count depends on the dialect, no row struct fits both.
	for rows.Next() {
		vals := make([]any, cols)
		var line string
		for i := range vals {
			vals[i] = new(any)
		}
		vals[cols-1] = &line
		if err := rows.Scan(vals...); err != nil {
			return "", fmt.Errorf("explain list events: %w", err)
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("explain list events: %w", err)
	}
	return strings.Join(out, "\n"), nil
}

// ListEventsSQL returns the query text ListEvents sends for f, for the
// performance notes: GORM's rendering of it, with this dialect's bind
// variables. Nothing is run.
func (s *Store) ListEventsSQL(f EventFilter) (string, error) {
	q, args, err := listEventsSQL(f)
	if err != nil {
		return "", err
	}
	return s.db.Raw(q, args...).Statement.SQL.String(), nil
}
