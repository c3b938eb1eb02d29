// Package apperr is how handlers say what went wrong without choosing an
// HTTP answer themselves. A handler returns its error, wrapped with context;
// the server's one error mapping (web/errors.go) turns domain errors (the
// store's, the ingester's, the parser's, the verifier's) and the *Error
// values below into a status and a message safe to show.
//
// *Error is for what only the handler can say: a refused form field, an
// unknown write key, a workspace id that is not a UUID. Its Code names the
// kind of refusal; the mapping owns which status that is.
package apperr

import (
	"errors"
	"fmt"

	"github.com/labstack/echo/v4"
)

// Code is the kind of a refusal.
type Code string

// The codes handlers use. The mapping to HTTP statuses is in web/errors.go.
const (
	Invalid       Code = "invalid"       // the request itself is wrong; sending it again cannot help
	Unauthorized  Code = "unauthorized"  // no, or wrong, credentials
	Forbidden     Code = "forbidden"     // credentials fine, this is not allowed (an expired form)
	NotFound      Code = "not_found"     // what the request names does not exist
	Conflict      Code = "conflict"      // contradicts what is already stored; sending it again cannot help
	Unprocessable Code = "unprocessable" // well-formed, but what it says cannot be accepted (a definition's fault)
	Timeout       Code = "timeout"       // the request did not arrive in time
	TooLarge      Code = "too_large"     // the body is over a limit
	Unsupported   Code = "unsupported"   // an encoding or media type Inlet does not take
	TooMany       Code = "too_many"      // slow down, then send it again
	Unavailable   Code = "unavailable"   // not now: send it again later
	Internal      Code = "internal"      // a fault of ours, already logged where it happened
)

// ErrUnavailable marks a failure of something Inlet needs in order to
// answer, the database above all, that a retry may fix. The caches of
// credentials wrap their lookups' failures with it; the mapping answers 503.
var ErrUnavailable = errors.New("database unavailable")

// Error is a refusal with a code and a message safe to show the caller.
type Error struct {
	Code Code
	// Msg is shown to the caller; empty means the answer the mapping gives
	// for Err, with Code's status instead of Err's.
	Msg string
	// RetryAfter, in seconds, is sent as Retry-After; 0 leaves it to the mapping.
	RetryAfter int
	Err        error // the cause, for errors.Is/As and the log; may be nil
	// Fields are more JSON fields of the answer beside "error" (the API's
	// 404 says whether the id was erased: "suppressed"); HTML pages ignore them.
	Fields map[string]any
}

// With returns e with the answer's extra JSON field key set to v.
func (e *Error) With(key string, v any) *Error {
	if e.Fields == nil {
		e.Fields = map[string]any{}
	}
	e.Fields[key] = v
	return e
}

// New is a refusal with a message.
func New(code Code, msg string) *Error { return &Error{Code: code, Msg: msg} }

// Errorf is New with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// TryLater is Unavailable with the seconds the caller should wait.
func TryLater(msg string, retryAfter int) *Error {
	return &Error{Code: Unavailable, Msg: msg, RetryAfter: retryAfter}
}

// Wrap gives err's answer a different code: err's message and Retry-After,
// another status (the Tracking API answers overload with 429, which
// Segment's libraries wait out, where the webhook answers 503).
func Wrap(code Code, err error) *Error { return &Error{Code: code, Err: err} }

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return string(e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// CodeOf is the code of the first *Error in err's chain, "" when none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Reply is what the server answered for an error.
type Reply struct {
	Status     int
	Message    string
	RetryAfter int            // seconds; 0 = no Retry-After header
	Fields     map[string]any // more JSON fields beside "error" (Error.Fields)
}

const replyKey = "inlet.error_reply"

// SetReply notes the answer on the request, just before it is written, so
// a surface that records its deliveries records what was actually sent.
func SetReply(c echo.Context, r Reply) { c.Set(replyKey, r) }

// ReplyOf is the answer SetReply noted; ok is false when none was.
func ReplyOf(c echo.Context) (r Reply, ok bool) {
	r, ok = c.Get(replyKey).(Reply)
	return r, ok
}
