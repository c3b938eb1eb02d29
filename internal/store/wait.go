package store

import (
	"errors"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// StartingUp says whether err is PostgreSQL not accepting connections
// yet: the connection was refused (nothing listens: the server is still
// starting or restarting), its host name does not resolve yet (a container
// whose network name appears once it runs), or PostgreSQL answered that it
// is starting up (SQLSTATE 57P03, cannot_connect_now). Anything else — bad
// credentials, an unknown database, any SQLite error — is not worth
// waiting for: `serve` stops at once with it (DATABASE_WAIT).
func StartingUp(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P03"
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && (dnsErr.IsNotFound || dnsErr.IsTemporary)
}
