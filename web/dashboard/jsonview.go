package dashboard

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/apperr"
)

// cutJSON renders a stored JSON value compactly, cut to at most max bytes
// (at a character boundary); cut says whether it was.
func cutJSON(raw []byte, max int) (s string, cut bool) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(raw) // shown as stored rather than not at all
	}
	return cutText(b.Bytes(), max)
}

func cutText(b []byte, max int) (string, bool) {
	if len(b) <= max {
		return string(b), false
	}
	end := max
	for end > 0 && !utf8.RuneStart(b[end]) {
		end--
	}
	return string(b[:end]), true
}

func notFound(msg string) error { return apperr.New(apperr.NotFound, msg) }
