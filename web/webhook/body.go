package webhook

import (
	"errors"
	"io"
	"net"
	"net/http"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/labstack/echo/v4"
)

// preallocBody is the largest declared Content-Length read into a buffer
// sized up front. Larger bodies grow with the bytes that actually arrive, so
// a client announcing megabytes and sending nothing costs nothing.
const preallocBody = 64 << 10

// readBody reads at most limit bytes; anything longer is an
// *http.MaxBytesError (413) without reading further.
func readBody(req *http.Request, limit int64) ([]byte, error) {
	tooLarge := &http.MaxBytesError{Limit: limit}
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	if req.ContentLength > 0 && req.ContentLength <= preallocBody {
		// net/http ends the body at Content-Length, so one exact-size buffer
		// does; io.ReadAll would grow and copy its way up to it.
		body := make([]byte, req.ContentLength)
		if _, err := io.ReadFull(req.Body, body); err != nil {
			return nil, readError(err)
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, readError(err)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	return body, nil
}

// closeAfterReply answers a request whose body was not (all) read on a
// connection that then closes. Otherwise net/http would first try to read
// and discard up to 256 KB of the unread body, so a 413 for a body that is
// never sent would wait for the read timeout.
func closeAfterReply(c echo.Context) {
	c.Response().Header().Set(echo.HeaderConnection, "close")
}

// readError explains a body that did not arrive whole, without echoing
// addresses from the network error.
func readError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &apperr.Error{Code: apperr.Timeout, Msg: "the body did not arrive within the read timeout", Err: err}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return mbe
	}
	return &apperr.Error{Code: apperr.Invalid, Msg: "the body ended before its announced length or could not be read", Err: err}
}
