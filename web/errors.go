package web

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// dbUnavailable is the answer whenever the database cannot be asked, on
// every route: a 503 that Segment and the libraries retry.
var dbUnavailable = apperr.Reply{Status: http.StatusServiceUnavailable, Message: "database unavailable, try again", RetryAfter: 5}

// codeStatus is the status of each apperr code.
var codeStatus = map[apperr.Code]int{
	apperr.Invalid:       http.StatusBadRequest,
	apperr.Unauthorized:  http.StatusUnauthorized,
	apperr.Forbidden:     http.StatusForbidden,
	apperr.NotFound:      http.StatusNotFound,
	apperr.Conflict:      http.StatusConflict,
	apperr.Unprocessable: http.StatusUnprocessableEntity,
	apperr.Timeout:       http.StatusRequestTimeout,
	apperr.TooLarge:      http.StatusRequestEntityTooLarge,
	apperr.Unsupported:   http.StatusUnsupportedMediaType,
	apperr.TooMany:       http.StatusTooManyRequests,
	apperr.Unavailable:   http.StatusServiceUnavailable,
	apperr.Internal:      http.StatusInternalServerError,
}

// errorReply is the one mapping from what a handler returned to what the
// caller is told: a status, a message safe to show, a Retry-After. internal
// says the error is a fault of ours that nobody has logged yet (a 500).
func errorReply(err error) (r apperr.Reply, internal bool) {
	var (
		ae  *apperr.Error
		he  *echo.HTTPError
		mbe *http.MaxBytesError
		pe  *segment.ParseError
	)
	switch {
	case errors.As(err, &ae):
		r = apperr.Reply{Status: codeStatus[ae.Code], Message: ae.Msg, RetryAfter: ae.RetryAfter, Fields: ae.Fields}
		if ae.Msg == "" && ae.Err != nil {
			cause, _ := errorReply(ae.Err)
			r.Message = cause.Message
			r.RetryAfter = max(r.RetryAfter, cause.RetryAfter)
		}
		if r.Status == 0 {
			r.Status = http.StatusInternalServerError
		}
		if r.Message == "" {
			r.Message = http.StatusText(r.Status)
		}
		return r, false
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		return apperr.Reply{Status: he.Code, Message: msg}, false
	case errors.As(err, &mbe):
		return apperr.Reply{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("body is larger than the %d-byte limit", mbe.Limit)}, false
	case errors.As(err, &pe):
		return apperr.Reply{Status: http.StatusBadRequest, Message: pe.Error()}, false
	case errors.Is(err, segment.ErrSignatureMissing):
		return apperr.Reply{Status: http.StatusUnauthorized, Message: "missing X-Signature header"}, false
	case errors.Is(err, segment.ErrSignatureMalformed):
		return apperr.Reply{Status: http.StatusUnauthorized, Message: "malformed X-Signature header: expected 40 hex characters (HMAC-SHA1)"}, false
	case errors.Is(err, segment.ErrSignatureMismatch):
		return apperr.Reply{Status: http.StatusUnauthorized, Message: "X-Signature does not match: check the shared secret in Segment and in /dashboard/settings"}, false
	case errors.Is(err, ingest.ErrOverloaded):
		return apperr.Reply{Status: http.StatusServiceUnavailable, Message: "too many events in flight, try again", RetryAfter: 2}, false
	case errors.Is(err, ingest.ErrClosed):
		return apperr.Reply{Status: http.StatusServiceUnavailable, Message: "shutting down, try again", RetryAfter: 5}, false
	case errors.Is(err, ingest.ErrFirstElementStored):
		return apperr.Reply{Status: http.StatusConflict, Message: "element 0 of this batch (the only event its X-Signature covers) is already stored, and the batch adds events that are not: a retry must repeat the whole batch"}, false
	case errors.Is(err, ingest.ErrRejected):
		return apperr.Reply{Status: http.StatusBadRequest, Message: "the database refused these events"}, false
	case errors.Is(err, ingest.ErrUnavailable), errors.Is(err, apperr.ErrUnavailable), databaseDown(err):
		return dbUnavailable, false
	case errors.Is(err, store.ErrNotFound):
		return apperr.Reply{Status: http.StatusNotFound, Message: "not found"}, false
	}
	return apperr.Reply{Status: http.StatusInternalServerError, Message: "internal error"}, true
}

// databaseDown says whether err is the database not answering (refused or
// dropped connections, a query that ran out of time, a closed pool) rather
// than a fault in what was asked: the same 503 on every route then.
func databaseDown(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) ||
		// database/sql's own error for a pool closed at shutdown is not exported.
		strings.Contains(err.Error(), "sql: database is closed")
}

// trackingAPIRoute says whether the request is for the Tracking API, by
// path rather than by route, so that /v1 paths no route matches (404, 405)
// answer in the same shape as the rest.
func trackingAPIRoute(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/v1" || strings.HasPrefix(p, "/v1/")
}

// handleError is Echo's HTTPErrorHandler: it answers whatever a handler or
// middleware returned, as an HTML page on routes for people (see htmlErrors)
// and as {"error": "..."} everywhere else, and logs what needs logging once,
// with the request id.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	r, internal := errorReply(err)
	log := reqlog.From(c.Request().Context())
	switch {
	case internal:
		log.Error("internal error", "err", err, "path", c.Path())
	case r.Status >= 500 && !selfLogged(c):
		// Routes that log their own line (webhook, /v1) already say why.
		log.Warn("unavailable", "err", err, "path", c.Path(), "status", r.Status)
	}
	// Noted before writing, for the surfaces that record what they answered.
	apperr.SetReply(c, r)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(r.Status)
		return
	}
	if r.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(r.RetryAfter))
	}
	var werr error
	if wantsHTML(c) {
		title := http.StatusText(r.Status)
		if title == "" {
			title = "Error"
		}
		werr = render.Page(c, r.Status, templates.ErrorPage(templates.ErrorPageProps{Status: r.Status, Title: title, Message: r.Message}))
	} else if trackingAPIRoute(c) {
		// Segment's libraries read code and message (analytics-python
		// retries a body without them as a network error); error stays
		// for Inlet's own readers.
		werr = c.JSON(r.Status, segment.NewTrackingError(r.Status, r.Message))
	} else {
		body := make(map[string]any, 1+len(r.Fields))
		for k, v := range r.Fields {
			body[k] = v
		}
		body["error"] = r.Message
		werr = c.JSON(r.Status, body)
	}
	if werr != nil {
		log.Debug("write error response", "err", werr)
	}
}
