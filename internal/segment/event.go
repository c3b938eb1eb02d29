// Package segment verifies and parses the bodies Segment's webhook
// destinations POST to Inlet. It is pure: no I/O, no database, stdlib only,
// so the HTTP layer and the store can both trust what comes out of Parse.
package segment

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Event is one validated Segment Spec call.
type Event struct {
	Type        string    // identify, track, page, screen, group, alias, delete
	MessageID   string    // from messageId, or derived (see Parse)
	UserID      string    // JSON numbers are kept as their literal text
	AnonymousID string    // JSON numbers are kept as their literal text
	Event       string    // "event"; for page/screen "name" wins when non-empty
	GroupID     string    // JSON numbers are kept as their literal text
	PreviousID  string    // JSON numbers are kept as their literal text
	Timestamp   time.Time // timestamp, else originalTimestamp, else receivedAt, else sentAt (UTC); zero if none
	// Raw is the event's JSON text. For single-object and array bodies it is
	// a copy of the exact bytes in the body; for {"batch":[...]} bodies it is
	// the item re-encoded with the top-level context/integrations/sentAt
	// merged in. It never aliases the body passed to Parse.
	Raw []byte
	// MessageIDDerived is true when the event had no messageId and Parse
	// derived one from its bytes (see AssignMessageIDs).
	MessageIDDerived bool
}

// AssignMessageIDs gives every event that came without a messageId a fresh
// one from newID (prefixed "inlet-"), as Segment's Tracking API does when it
// receives such an event: two identical requests are two events. The
// webhook does not call it: Segment always sends a messageId there, and a
// retried body must keep deduplicating.
func AssignMessageIDs(events []Event, newID func() string) {
	for i := range events {
		if events[i].MessageIDDerived {
			events[i].MessageID = derivedIDPrefix + newID()
			events[i].MessageIDDerived = false
			events[i].Raw = withMessageID(events[i].Raw, events[i].MessageID)
		}
	}
}

// withMessageID writes the assigned id into the stored JSON too, as Segment
// does, so exports, the API and destinations carry the id that dedupes the
// event. It goes last: a "messageId" that was present but empty or null is
// then overridden, since JSON readers keep the last of repeated keys. id
// must need no escaping (AssignMessageIDs's ids are UUIDs).
func withMessageID(raw []byte, id string) []byte {
	end := bytes.LastIndexByte(raw, '}')
	start := bytes.IndexByte(raw, '{')
	if start < 0 || end <= start {
		return raw
	}
	sep := ","
	if len(bytes.TrimSpace(raw[start+1:end])) == 0 {
		sep = ""
	}
	out := make([]byte, 0, len(raw)+len(id)+16)
	out = append(out, raw[:end]...)
	out = append(out, sep+`"messageId":"`+id+`"`...)
	return append(out, raw[end:]...)
}

// MaxMessageIDLen is the longest messageId accepted, in runes.
const MaxMessageIDLen = 100

// MaxEventBytes is Segment's own per-event limit, applied to len(Raw).
const MaxEventBytes = 32 * 1024

// maxFieldBytes caps the other typed string fields (ids, event names): they
// become indexed text columns, and nothing Segment sends comes close.
const maxFieldBytes = 1024

// derivedIDPrefix marks messageIds that Inlet made up because the event had
// none; the rest is a content hash so retries of the same bytes dedupe.
const derivedIDPrefix = "inlet-"

// ParseError says which event and which field of a body were wrong, so the
// caller can return a useful 400 to whoever misconfigured the source.
type ParseError struct {
	Index int    // position of the event in the body; -1 when the problem is the body itself
	Field string // "" when not about one field
	Msg   string
}

// Error reads like `event 3: field "event": required for track` or
// `body: invalid JSON: ...`. Index is 0-based, like the array it points into.
func (e *ParseError) Error() string {
	var b strings.Builder
	if e.Index < 0 {
		b.WriteString("body: ")
	} else {
		fmt.Fprintf(&b, "event %d: ", e.Index)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, "field %q: ", e.Field)
	}
	b.WriteString(e.Msg)
	return b.String()
}

func bodyErr(field, format string, args ...any) *ParseError {
	return &ParseError{Index: -1, Field: field, Msg: fmt.Sprintf(format, args...)}
}

func eventErr(i int, field, format string, args ...any) *ParseError {
	return &ParseError{Index: i, Field: field, Msg: fmt.Sprintf(format, args...)}
}
