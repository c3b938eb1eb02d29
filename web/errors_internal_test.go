package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
)

// TestErrorReply pins the one mapping: the answers README and
// docs/http-api.md document, whatever context a handler wrapped around them.
func TestErrorReply(t *testing.T) {
	t.Parallel()
	_, parseErr := segment.Parse([]byte(`[{"type":"track","messageId":"a","userId":"u","event":"x"},{},{"type":"track","messageId":"c","userId":"u"}]`))
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		msg        string
		retryAfter int
		internal   bool
	}{
		{"parse error", fmt.Errorf("webhook: %w", parseErr), 400, parseErr.Error(), 0, false},
		{"signature missing", fmt.Errorf("ws: %w", segment.ErrSignatureMissing), 401, "missing X-Signature header", 0, false},
		{"signature mismatch", segment.ErrSignatureMismatch, 401,
			"X-Signature does not match: check the shared secret in Segment and in /dashboard/settings", 0, false},
		{"body too large", &http.MaxBytesError{Limit: 1048576}, 413, "body is larger than the 1048576-byte limit", 0, false},
		{"overloaded", ingest.ErrOverloaded, 503, "too many events in flight, try again", 2, false},
		{"overloaded on /v1", apperr.Wrap(apperr.TooMany, ingest.ErrOverloaded), 429, "too many events in flight, try again", 2, false},
		{"shutting down", ingest.ErrClosed, 503, "shutting down, try again", 5, false},
		{"rejected", ingest.ErrRejected, 400, "the database refused these events", 0, false},
		{"commit timed out", errors.Join(ingest.ErrUnavailable, context.DeadlineExceeded), 503, "database unavailable, try again", 5, false},
		{"cache lookup failed", fmt.Errorf("%w: %w", apperr.ErrUnavailable, errors.New("boom")), 503, "database unavailable, try again", 5, false},
		// The same failure under any handler's context reads the same.
		{"events webtest.Page, database gone", fmt.Errorf("list events: %w", refused), 503, "database unavailable, try again", 5, false},
		{"settings webtest.Page, database gone", fmt.Errorf("write keys: %w", refused), 503, "database unavailable, try again", 5, false},
		{"query timed out", fmt.Errorf("workspaces: %w", context.DeadlineExceeded), 503, "database unavailable, try again", 5, false},
		{"not found", fmt.Errorf("workspace: %w", store.ErrNotFound), 404, "not found", 0, false},
		{"handler's refusal", apperr.New(apperr.Invalid, "bad field"), 400, "bad field", 0, false},
		{"handler's refusal wrapping a cause", &apperr.Error{Code: apperr.NotFound, Msg: "no workspace with id x", Err: store.ErrNotFound},
			404, "no workspace with id x", 0, false},
		{"try later", apperr.TryLater("no secret yet", 30), 503, "no secret yet", 30, false},
		{"echo's 405", echo.ErrMethodNotAllowed, 405, "Method Not Allowed", 0, false},
		{"a bug", errors.New("nil map"), 500, "internal error", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, internal := errorReply(tc.err)
			if r.Status != tc.status || r.Message != tc.msg || r.RetryAfter != tc.retryAfter || internal != tc.internal {
				t.Fatalf("errorReply(%v) = %+v internal=%v, want %d %q Retry-After %d internal=%v",
					tc.err, r, internal, tc.status, tc.msg, tc.retryAfter, tc.internal)
			}
		})
	}
}
