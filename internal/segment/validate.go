package segment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// buildEvent validates one event object (m is raw decoded into a map, so only
// the fields Inlet types are ever decoded: properties with 1e999999 or deep
// but legal nesting stay untouched JSON text) and fills in an Event.
// Map lookups are case-sensitive, unlike encoding/json struct matching, so
// "UserId" is not mistaken for "userId".
func buildEvent(i int, raw []byte, m map[string]json.RawMessage) (Event, error) {
	ev := Event{Raw: raw}
	var err error
	if ev.Type, err = textField(i, m, "type", false); err != nil {
		return Event{}, err
	}
	switch {
	case ev.Type == "":
		return Event{}, eventErr(i, "type", "required")
	case !ValidType(ev.Type):
		return Event{}, eventErr(i, "type", "unknown type %.40q (want identify, track, page, screen, group, alias or delete)", ev.Type)
	}

	if ev.MessageID, err = textField(i, m, "messageId", false); err != nil {
		return Event{}, err
	}
	if n := utf8.RuneCountInString(ev.MessageID); n > MaxMessageIDLen {
		return Event{}, eventErr(i, "messageId", "too long (%d characters, limit %d)", n, MaxMessageIDLen)
	}
	if ev.MessageID == "" {
		sum := sha256.Sum256(raw)
		ev.MessageID = derivedIDPrefix + hex.EncodeToString(sum[:])[:32]
		ev.MessageIDDerived = true
	}

	// Segment sometimes sends ids as JSON numbers; keep their literal text.
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"userId", &ev.UserID},
		{"anonymousId", &ev.AnonymousID},
		{"groupId", &ev.GroupID},
		{"previousId", &ev.PreviousID},
	} {
		if *f.dst, err = textField(i, m, f.key, true); err != nil {
			return Event{}, err
		}
	}
	if ev.UserID == "" && ev.AnonymousID == "" {
		return Event{}, eventErr(i, "userId", "userId or anonymousId required")
	}

	if ev.Event, err = textField(i, m, "event", false); err != nil {
		return Event{}, err
	}
	if ev.Type == "page" || ev.Type == "screen" {
		name, err := textField(i, m, "name", false)
		if err != nil {
			return Event{}, err
		}
		if name != "" {
			ev.Event = name
		}
	}

	switch {
	case ev.Type == "track" && ev.Event == "":
		return Event{}, eventErr(i, "event", "required for track")
	case ev.Type == "group" && ev.GroupID == "":
		return Event{}, eventErr(i, "groupId", "required for group")
	case ev.Type == "alias" && ev.PreviousID == "":
		return Event{}, eventErr(i, "previousId", "required for alias")
	case ev.Type == "alias" && ev.UserID == "":
		return Event{}, eventErr(i, "userId", "required for alias")
	}

	// Validate every timestamp that is present, not only the one used, so
	// that downstream code reading Raw never meets an unparseable one.
	for _, key := range []string{"timestamp", "originalTimestamp", "receivedAt", "sentAt"} {
		t, err := timeField(i, m, key)
		if err != nil {
			return Event{}, err
		}
		if ev.Timestamp.IsZero() {
			ev.Timestamp = t
		}
	}
	return ev, nil
}

// textField reads a typed string field: absent or null gives "", a string
// gives its decoded value, a number (only if allowNumber) its literal text.
// NUL is refused because Postgres text cannot hold it; length is capped
// because these become indexed columns.
func textField(i int, m map[string]json.RawMessage, key string, allowNumber bool) (string, error) {
	v, ok := m[key]
	if !ok {
		return "", nil
	}
	var s string
	switch k := kindOf(v); k {
	case "null":
		return "", nil
	case "string":
		var err error
		if s, err = decodeString(v); err != nil {
			return "", eventErr(i, key, "invalid string: %s", err.Error())
		}
	case "number":
		if !allowNumber {
			return "", eventErr(i, key, "must be a string, got number")
		}
		s = string(trimSpace(v))
	default:
		if allowNumber {
			return "", eventErr(i, key, "must be a string or number, got %s", k)
		}
		return "", eventErr(i, key, "must be a string, got %s", k)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", eventErr(i, key, "contains a NUL character")
	}
	// messageId has its own, tighter limit in runes, checked by the caller.
	if key != "messageId" && len(s) > maxFieldBytes {
		return "", eventErr(i, key, "too long (%d bytes, limit %d)", len(s), maxFieldBytes)
	}
	return s, nil
}

// timeField reads an ISO-8601 timestamp field; absent or null gives zero.
func timeField(i int, m map[string]json.RawMessage, key string) (time.Time, error) {
	v, ok := m[key]
	if !ok {
		return time.Time{}, nil
	}
	switch k := kindOf(v); k {
	case "null":
		return time.Time{}, nil
	case "string":
	default:
		return time.Time{}, eventErr(i, key, "must be an ISO-8601 string, got %s", k)
	}
	s, err := decodeString(v)
	if err != nil {
		return time.Time{}, eventErr(i, key, "invalid string: %s", err.Error())
	}
	t, ok := parseTimestamp(s)
	if !ok {
		return time.Time{}, eventErr(i, key, "not an ISO-8601 timestamp: %.40q", s)
	}
	if !inStoreRange(t) {
		return time.Time{}, eventErr(i, key, "outside years 0001–9999 once converted to UTC: %.40q", s)
	}
	return t, nil
}

// decodeString decodes a JSON string token. Without escapes the content is
// the text between the quotes (the body was already checked to be valid
// JSON and valid UTF-8), which skips encoding/json's reflection for the
// common case (about 20% of BenchmarkParse/track-1KB before this).
func decodeString(v json.RawMessage) (string, error) {
	v = trimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	err := json.Unmarshal(v, &s)
	return s, err
}
