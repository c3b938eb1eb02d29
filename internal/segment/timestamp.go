package segment

import (
	"strings"
	"time"
)

// timeLayouts are tried in order. Go's time.Parse accepts a fractional
// second after the seconds field even when the layout has none, with any
// number of digits (milli, micro, nano and beyond, truncated to ns), so one
// layout per zone style covers all precisions.
var timeLayouts = []string{
	"2006-01-02T15:04:05Z07:00", // Z, +00:00
	"2006-01-02T15:04:05Z0700",  // +0000
	"2006-01-02T15:04:05Z07",    // +00
	"2006-01-02T15:04:05",       // no zone: taken as UTC
	"2006-01-02T15:04Z07:00",    // no seconds
	"2006-01-02T15:04",
	"2006-01-02", // date only: midnight UTC
}

// parseTimestamp parses the ISO-8601 variants that Segment libraries and
// hand-written sources send, and returns the instant in UTC. Naive times
// (no zone) are taken as UTC, which is what Segment's own pipeline does.
func parseTimestamp(s string) (time.Time, bool) {
	// Longest legitimate input is around 40 bytes; refuse anything absurd
	// before handing it to the layout loop.
	if len(s) < len("2006-01-02") || len(s) > 64 {
		return time.Time{}, false
	}
	// RFC 3339 allows a space or lowercase t/z; Go's layouts want 'T' and 'Z'.
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// inStoreRange reports whether t (in UTC) falls in years 0001–9999.
// "9999-12-31T23:59:59-23:59" is year 10000 in UTC: SQLite's fixed text
// layout cannot hold it (and broke the events page), PostgreSQL would keep
// it but nothing else could read it back the same way, so both refuse it.
func inStoreRange(t time.Time) bool {
	y := t.Year()
	return y >= 1 && y <= 9999
}
