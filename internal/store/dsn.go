package store

import (
	"net/url"

	"github.com/inlet-dev/inlet/internal/redact"
)

// withConnectTimeout adds a short connect_timeout unless the operator set one,
// so a database that is down turns into a quick 503, never a hang.
func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("connect_timeout") == "" {
		q.Set("connect_timeout", "2")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// redactURL hides the password (userinfo and ?password=) so the location
// can be logged.
func redactURL(dsn string) string { return redact.URL(dsn) }
