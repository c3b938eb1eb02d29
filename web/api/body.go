package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/labstack/echo/v4"
)

// readJSON decodes one JSON object of at most limit bytes into dst,
// refusing unknown fields, so a misspelt field is an error, not ignored.
func readJSON(c echo.Context, limit int64, dst any) error {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	if err != nil {
		return fmt.Errorf("read request body: %w", err)
	}
	if int64(len(raw)) > limit {
		return apperr.Errorf(apperr.TooLarge, "the body is over %d bytes", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return apperr.Errorf(apperr.Invalid, "body: %s", err.Error())
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "body: one JSON object expected")
	}
	return nil
}

// keyPattern is what template and group keys may be: they appear in
// journeys, URLs and logs.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// checkKey refuses a key that is not 1 to 64 letters, digits, _ . -.
func checkKey(field, key string) error {
	if !keyPattern.MatchString(key) {
		return apperr.Errorf(apperr.Unprocessable, "%s: 1 to 64 letters, digits, _ . or -, starting with a letter or digit", field)
	}
	return nil
}
