package dashboard

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/apperr"
)

// maxShownEventBytes bounds one event's JSON on a page: Segment's own limit
// is 32 KB per event, but the webhook accepts larger bodies, and a page of
// fifty must stay small whatever was sent.
const maxShownEventBytes = 64 << 10

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

// indentJSON renders an event's JSON indented, cut to at most max bytes.
func indentJSON(raw []byte, max int) (s string, cut bool) {
	var b bytes.Buffer
	if len(raw) > max {
		// Indenting only adds bytes: the start of the compact text is enough.
		if err := json.Compact(&b, raw); err != nil {
			b.Reset()
			b.Write(raw)
		}
		return cutText(b.Bytes(), max)
	}
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		b.Reset()
		b.Write(raw)
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
