package store

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// IsDataError reports whether err is the database refusing the values
// themselves (as opposed to being unreachable), so retrying the same rows
// cannot help.
func IsDataError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 22 is data exception, 23 integrity constraint violation.
		return strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")
	}
	// The pure-Go SQLite driver reports constraint failures only in its text.
	return err != nil && strings.Contains(err.Error(), "constraint failed")
}
