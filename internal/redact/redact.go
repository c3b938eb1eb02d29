// Package redact hides passwords in URLs before they are logged or shown.
package redact

import (
	"net/url"
	"strings"
)

// secretParams are query parameters that carry a password in a database
// URL (libpq and pgx accept both).
var secretParams = map[string]bool{"password": true, "sslpassword": true}

// URL returns raw with the password hidden in both places a database URL
// can carry one: the userinfo (postgres://u:pw@h) and a query parameter
// (?password=pw), matched case-insensitively. Anything that does not parse
// as a URL is withheld entirely: it might be a password-bearing DSN in
// another syntax.
func URL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "(unparsable URL withheld)"
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if secretParams[strings.ToLower(k)] {
				q[k] = []string{"xxxxx"}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.Redacted()
}
