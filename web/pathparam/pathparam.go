// Package pathparam reads an id from a route's path the same way on every
// surface, whatever the id holds.
//
// Echo (v4) matches routes against the request's RawPath when the URL has
// one and against the decoded Path otherwise, and hands the matched piece
// over as it stands. So c.Param is still escaped ("a%2Fb") when the client
// had to escape something that the default encoding would not ("/" inside
// a segment), and already decoded ("a b") when it did not: decoding it
// always would turn a literal "%41" into "A", never decoding would leave
// "a%2Fb" unfound. Get decodes exactly when Echo matched the raw path.
package pathparam

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Get returns the decoded value of the path parameter name. A value that
// is not text (invalid UTF-8, NUL) is an error: no stored id holds one,
// and PostgreSQL refuses to compare it with its text.
func Get(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if c.Request().URL.RawPath != "" {
		d, err := url.PathUnescape(v)
		if err != nil {
			return "", fmt.Errorf("path parameter %s: %w", name, err)
		}
		v = d
	}
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
		return "", fmt.Errorf("path parameter %s: not text", name)
	}
	return v, nil
}
