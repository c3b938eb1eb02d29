package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://inlet:s3cret@db:5432/inlet?sslmode=disable", "postgres://inlet:xxxxx@db:5432/inlet?sslmode=disable"},
		{"postgres://db/inlet?user=inlet&password=s3cret", "postgres://db/inlet?password=xxxxx&user=inlet"},
		{"postgres://db/inlet?PassWord=s3cret&sslpassword=s3cret", "postgres://db/inlet?PassWord=xxxxx&sslpassword=xxxxx"},
		{"postgres://db/inlet", "postgres://db/inlet"},
		{"host=db password=s3cret", "(unparsable URL withheld)"},
	} {
		got := URL(tc.in)
		if got != tc.want || strings.Contains(got, "s3cret") {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
