package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// apiError is a refusal with a status and a message safe to show the caller.
type apiError struct {
	Status     int
	Msg        string
	RetryAfter int // seconds; 0 = no Retry-After header
}

func (e *apiError) Error() string { return e.Msg }

func errorf(status int, msg string) *apiError { return &apiError{Status: status, Msg: msg} }

func unavailable(msg string, retryAfter int) *apiError {
	return &apiError{Status: http.StatusServiceUnavailable, Msg: msg, RetryAfter: retryAfter}
}

// dbUnavailable is the answer whenever the database cannot be asked: a
// 503 that Segment and the libraries retry.
func dbUnavailable() *apiError { return unavailable("database unavailable, try again", 5) }

// writeJSONError is the one JSON error shape: {"error": "..."}.
func writeJSONError(c echo.Context, e *apiError) error {
	if e.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	return c.JSON(e.Status, map[string]string{"error": e.Msg})
}

// handleError maps anything a handler returned to a response, logging
// internal errors once with the request id.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ae *apiError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code < 500 {
			msg = m
		}
		ae = errorf(he.Code, msg)
	default:
		s.logger(c).Error("internal error", "err", err, "path", c.Path())
		ae = errorf(http.StatusInternalServerError, "internal error")
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(ae.Status)
		return
	}
	if isPagePath(c.Request().URL.Path) {
		if werr := renderErrorPage(c, ae); werr != nil {
			s.logger(c).Debug("write error page", "err", werr)
		}
		return
	}
	if werr := writeJSONError(c, ae); werr != nil {
		s.logger(c).Debug("write error response", "err", werr)
	}
}

// logger is the request's logger: the one requestLogging already made (so
// the webhook path builds it once), or one made here before that ran.
func (s *Server) logger(c echo.Context) *slog.Logger {
	if l, ok := c.Request().Context().Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log.With("request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}
