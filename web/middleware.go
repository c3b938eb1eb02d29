package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// recoverPanics turns a panic into a 500 and a log line with the stack, and
// keeps the server running.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.logger(c).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = errorf(http.StatusInternalServerError, "internal error")
			}
		}()
		return next(c)
	}
}
