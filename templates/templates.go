// Package templates holds the dashboard's templ components. Components take
// explicit props; the generated *_templ.go files are committed.
package templates

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/inlet-dev/inlet/static"
)

// asset is the content-hash URL of an embedded static file.
func asset(name string) string { return static.URL(name) }

// navAttrs marks the nav link of the page being shown.
func navAttrs(active, name string) templ.Attributes {
	if active == name {
		return templ.Attributes{"aria-current": "page"}
	}
	return templ.Attributes{}
}

// flashClass maps a flash kind to its CSS class; anything unknown is an error
// so a failure never looks like a success.
func flashClass(kind string) string {
	if kind == "success" {
		return "flash flash-success"
	}
	return "flash flash-error"
}

// flashRole: errors interrupt a screen reader, successes wait their turn.
func flashRole(kind string) string {
	if kind == "success" {
		return "status"
	}
	return "alert"
}

// FormatTime shows a time the same way on every page: UTC, to the second.
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ISOTime is the machine-readable form for <time datetime>.
func ISOTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// FieldAttrs marks a field invalid and ties it to its error message, so
// screen readers read the error with the field.
func FieldAttrs(errID, msg string) templ.Attributes {
	if msg == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-invalid": "true", "aria-describedby": errID}
}

type csrfKey struct{}

// WithCSRF puts the session's CSRF token where every form component can
// reach it without threading it through each props struct.
func WithCSRF(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, csrfKey{}, token)
}

func csrfFrom(ctx context.Context) string {
	tok, _ := ctx.Value(csrfKey{}).(string)
	return tok
}

// eraseConfirm is the browser's confirmation of an erasure: the exact
// number of events that go and every userId of the profile.
func eraseConfirm(p UserProps) string {
	msg := "Delete " + p.Heading + " and its " + strconv.FormatInt(p.EraseCount, 10) + " events"
	if len(p.EraseUserIDs) > 0 {
		msg += " (userIds: " + strings.Join(p.EraseUserIDs, ", ") + ")"
	}
	return msg + "? This cannot be undone."
}
