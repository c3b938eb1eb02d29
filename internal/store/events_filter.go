package store

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/segment"
)

// MaxSearchText bounds a searched id, event name or trait value: it goes
// into an index lookup, and no stored value is longer.
const MaxSearchText = 1024

// ValidSearchText reports whether v can be searched for: at most
// MaxSearchText bytes of valid UTF-8 without NUL, which no stored value has.
func ValidSearchText(v string) bool {
	return len(v) <= MaxSearchText && utf8.ValidString(v) && !strings.ContainsRune(v, 0)
}

// ParseFilterTime reads a from/to bound: RFC 3339, or the events page's
// 2006-01-02T15:04 form taken as UTC. Empty is no bound.
func ParseFilterTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil && t.Year() >= 1970 && t.Year() < 2200 {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseEventFilter reads the event filters (type, event, user, from, to) of
// a query (the API's, or the export command's flags) on top of ws; the
// message says which one is wrong ("" when none is).
func ParseEventFilter(q map[string][]string, ws EventFilter) (EventFilter, string) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return strings.TrimSpace(v[0])
		}
		return ""
	}
	f := ws
	f.Type, f.Event, f.User = get("type"), get("event"), get("user")
	if f.Type != "" && !segment.ValidType(f.Type) {
		return f, "type: one of " + strings.Join(segment.Types, ", ")
	}
	if !ValidSearchText(f.Event) || !ValidSearchText(f.User) {
		return f, "event/user: too long or not valid text"
	}
	var ok bool
	if f.From, ok = ParseFilterTime(get("from")); !ok {
		return f, "from: an RFC 3339 time such as 2026-05-06T14:30:00Z"
	}
	if f.To, ok = ParseFilterTime(get("to")); !ok {
		return f, "to: an RFC 3339 time such as 2026-05-06T15:00:00Z"
	}
	return f, ""
}
