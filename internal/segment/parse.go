package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// Parse turns a request body into events. Accepted shapes: one event object;
// a JSON array of event objects (Webhooks Actions batching); and the Tracking
// API's {"batch":[...], "context":{...}, ...}, whose top-level context,
// integrations and sentAt are merged into each item (item keys win).
// It is all-or-nothing: any bad item fails the whole body, because Segment
// retries the whole request and a partial accept would duplicate the rest.
// Every error is a *ParseError.
func Parse(body []byte) ([]Event, error) {
	// Postgres rejects invalid UTF-8 in text and json columns; one bad event
	// would fail a whole group commit, so refuse it at the door.
	if !utf8.Valid(body) {
		return nil, bodyErr("", "invalid UTF-8")
	}
	trimmed := trimSpace(body)
	if len(trimmed) == 0 {
		return nil, bodyErr("", "empty body")
	}
	switch trimmed[0] {
	case '[':
		var items []json.RawMessage
		if err := unmarshalBody(body, &items); err != nil {
			return nil, err
		}
		return parseItems(items, nil)
	case '{':
		var top map[string]json.RawMessage
		if err := unmarshalBody(body, &top); err != nil {
			return nil, err
		}
		if batch, ok := top["batch"]; ok {
			return parseBatch(top, batch)
		}
		if len(trimmed) > MaxEventBytes {
			return nil, tooLarge(0, len(trimmed))
		}
		ev, err := buildEvent(0, bytes.Clone(trimmed), top)
		if err != nil {
			return nil, err
		}
		return []Event{ev}, nil
	default:
		// Report a syntax error if there is one; otherwise it is a valid
		// scalar, which is no event at all.
		if err := unmarshalBody(body, new(json.RawMessage)); err != nil {
			return nil, err
		}
		return nil, bodyErr("", "top level must be a JSON object or array, got %s", kindOf(trimmed))
	}
}

// unmarshalBody wraps encoding/json so that syntax errors (including its
// nesting-depth limit, which makes 200k-deep input fail fast without
// recursion) and trailing garbage become body-level ParseErrors.
func unmarshalBody(body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return bodyErr("", "invalid JSON: %s (at byte %d)", se.Error(), se.Offset)
	}
	return bodyErr("", "invalid JSON: %s", err.Error())
}

// parseItems validates array elements whose Raw is their exact text.
// batch is nil for plain arrays; for Tracking API batches it carries the
// top-level values to merge, and Raw becomes the merged re-encoding.
func parseItems(items []json.RawMessage, batch *batchTop) ([]Event, error) {
	if len(items) == 0 {
		return nil, bodyErr("", "no events")
	}
	events := make([]Event, 0, len(items))
	for i, item := range items {
		if k := kindOf(item); k != "object" {
			return nil, eventErr(i, "", "must be a JSON object, got %s", k)
		}
		if batch == nil && len(item) > MaxEventBytes {
			return nil, tooLarge(i, len(item))
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(item, &m); err != nil {
			// Unreachable: the body as a whole was already valid JSON.
			return nil, eventErr(i, "", "invalid JSON: %s", err.Error())
		}
		raw := []byte(item) // already a private copy made by RawMessage
		if batch != nil {
			var err error
			if raw, err = batch.merge(m); err != nil {
				return nil, eventErr(i, "", "%s", err.Error())
			}
			if len(raw) > MaxEventBytes {
				return nil, tooLarge(i, len(raw))
			}
		}
		ev, err := buildEvent(i, raw, m)
		if err != nil {
			return nil, err
		}
		events = append(events, ev)
	}
	return events, nil
}

func tooLarge(i, n int) *ParseError {
	return eventErr(i, "", "too large (%d bytes, limit %d)", n, MaxEventBytes)
}

// trimSpace trims only JSON whitespace, so Raw starts and ends exactly where
// the value does (bytes.TrimSpace would also trim Unicode spaces).
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// kindOf names the JSON type of a valid value from its first byte.
func kindOf(v []byte) string {
	v = trimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}
