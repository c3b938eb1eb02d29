package segment

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSpecCalls(t *testing.T) {
	tests := []struct {
		body string
		want Event // Raw and MessageID are not compared
	}{
		{`{"type":"identify","userId":"u","traits":{"email":"a@b"}}`,
			Event{Type: "identify", UserID: "u"}},
		{`{"type":"track","anonymousId":"a","event":"Signed Up"}`,
			Event{Type: "track", AnonymousID: "a", Event: "Signed Up"}},
		{`{"type":"page","userId":"u","name":"Home","event":"ignored"}`,
			Event{Type: "page", UserID: "u", Event: "Home"}},
		{`{"type":"page","userId":"u"}`, Event{Type: "page", UserID: "u"}},
		{`{"type":"screen","userId":"u","name":null,"event":"Fallback"}`,
			Event{Type: "screen", UserID: "u", Event: "Fallback"}},
		{`{"type":"group","userId":"u","groupId":"g"}`,
			Event{Type: "group", UserID: "u", GroupID: "g"}},
		{`{"type":"alias","userId":"u","previousId":"p"}`,
			Event{Type: "alias", UserID: "u", PreviousID: "p"}},
		{`{"type":"delete","userId":"u"}`, Event{Type: "delete", UserID: "u"}},
		// Numeric ids keep their literal text, including forms a float
		// round-trip would change.
		{`{"type":"group","userId":12345,"anonymousId":-0,"groupId":1.50}`,
			Event{Type: "group", UserID: "12345", AnonymousID: "-0", GroupID: "1.50"}},
		{`{"type":"alias","userId":1e999999,"previousId":9007199254740993}`,
			Event{Type: "alias", UserID: "1e999999", PreviousID: "9007199254740993"}},
		// null counts as absent.
		{`{"type":"identify","userId":null,"anonymousId":"a","messageId":null,"timestamp":null}`,
			Event{Type: "identify", AnonymousID: "a"}},
		// Keys are case-sensitive: "UserId" is just another property.
		{`{"type":"identify","anonymousId":"a","UserId":"x"}`,
			Event{Type: "identify", AnonymousID: "a"}},
		// Large numbers and NUL outside typed fields are fine.
		{`{"type":"track","userId":"u","event":"E","properties":{"big":1e999999,"n":"a\u0000b"}}`,
			Event{Type: "track", UserID: "u", Event: "E"}},
	}
	for _, tc := range tests {
		evs := mustParse(t, []byte(tc.body))
		got := evs[0]
		got.Raw, got.MessageID, got.MessageIDDerived = nil, "", false // ids: TestMessageID*, TestAssignMessageIDs*
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%s)\n got %+v\nwant %+v", tc.body, got, tc.want)
		}
	}
}

func TestDerivedMessageID(t *testing.T) {
	body := []byte(`{"type":"track","userId":"u","event":"E","messageId":""}`)
	a, b := mustParse(t, body)[0], mustParse(t, append([]byte(nil), body...))[0]
	sum := sha256.Sum256(body)
	if want := "inlet-" + hex.EncodeToString(sum[:])[:32]; a.MessageID != want || b.MessageID != want {
		t.Errorf("derived ids %q %q, want %q", a.MessageID, b.MessageID, want)
	}
	other := mustParse(t, []byte(`{"type":"track","userId":"u","event":"F"}`))[0]
	if other.MessageID == a.MessageID {
		t.Error("different bodies got the same derived messageId")
	}
	// Batch items are re-encoded deterministically, so retries still dedupe.
	batch := []byte(`{"batch":[{"type":"track","userId":"u","event":"E","z":1,"a":2}],"context":{"k":"v"}}`)
	if x, y := mustParse(t, batch)[0], mustParse(t, batch)[0]; x.MessageID != y.MessageID {
		t.Errorf("batch derived ids differ: %q %q", x.MessageID, y.MessageID)
	}
}

func TestTimestamps(t *testing.T) {
	base := time.Date(2026, 11, 20, 9, 14, 3, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-20T09:14:03.117Z", base.Add(117 * time.Millisecond)},
		{"2026-11-20T09:14:03.117+00:00", base.Add(117 * time.Millisecond)},
		{"2026-11-20T10:14:03.117+0100", base.Add(117 * time.Millisecond)},
		{"2026-11-20T04:14:03-05", base},
		{"2026-11-20T09:14:03.117123Z", base.Add(117123 * time.Microsecond)},
		{"2026-11-20T09:14:03.117123456Z", base.Add(117123456)},
		{"2026-11-20T09:14:03.1171234567891Z", base.Add(117123456)},
		{"2026-11-20T09:14:03Z", base},
		{"2026-11-20T09:14:03", base},
		{"2026-11-20 09:14:03.117Z", base.Add(117 * time.Millisecond)},
		{"2026-11-20t09:14:03z", base},
		{"2026-11-20T09:14Z", base.Add(-3 * time.Second)},
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		for _, field := range []string{"timestamp", "originalTimestamp", "sentAt", "receivedAt"} {
			ev := mustParse(t, []byte(`{"type":"identify","userId":"u","`+field+`":"`+tc.in+`"}`))[0]
			if !ev.Timestamp.Equal(tc.want) || ev.Timestamp.Location() != time.UTC {
				t.Errorf("%s %q: got %v, want %v", field, tc.in, ev.Timestamp, tc.want)
			}
		}
	}
	// Precedence: timestamp, originalTimestamp, receivedAt, sentAt.
	ev := mustParse(t, []byte(`{"type":"identify","userId":"u","sentAt":"2026-01-04",
		"receivedAt":"2026-01-03","originalTimestamp":"2026-01-02"}`))[0]
	if ev.Timestamp.Day() != 2 {
		t.Errorf("precedence: got %v", ev.Timestamp)
	}
	if ev := mustParse(t, []byte(`{"type":"identify","userId":"u","sentAt":"2026-01-04","receivedAt":"2026-01-03"}`))[0]; ev.Timestamp.Day() != 3 {
		t.Errorf("receivedAt before sentAt: got %v", ev.Timestamp)
	}
	if ev := mustParse(t, []byte(`{"type":"identify","userId":"u"}`))[0]; !ev.Timestamp.IsZero() {
		t.Errorf("no timestamps: got %v", ev.Timestamp)
	}
}

func TestRefusals(t *testing.T) {
	const ok = `{"type":"track","userId":"u","event":"E"}`
	long := strings.Repeat("x", 10_000)
	big := `{"type":"track","userId":"u","event":"E","properties":{"p":"` + strings.Repeat("a", MaxEventBytes) + `"}}`
	tests := []struct {
		name, body string
		index      int
		field, msg string
	}{
		{"invalid UTF-8", "{\"type\":\"track\",\"userId\":\"\xff\",\"event\":\"E\"}", -1, "", "invalid UTF-8"},
		{"empty body", " \n", -1, "", "empty body"},
		{"truncated", `{"type":"track"`, -1, "", "invalid JSON"},
		{"trailing garbage", ok + ` x`, -1, "", "invalid JSON"},
		{"two values", ok + ok, -1, "", "invalid JSON"},
		{"array trailing garbage", `[` + ok + `]]`, -1, "", "invalid JSON"},
		{"scalar", `42`, -1, "", "top level must be a JSON object or array, got number"},
		{"empty array", ` [ ] `, -1, "", "no events"},
		{"mixed array", `[` + ok + `,42,` + ok + `]`, 1, "", "must be a JSON object, got number"},
		{"null element", `[` + ok + `,null]`, 1, "", "must be a JSON object, got null"},
		{"batch object", `{"batch":{}}`, -1, "batch", "must be an array, got object"},
		{"batch null", `{"batch":null}`, -1, "batch", "must be an array, got null"},
		{"batch empty", `{"batch":[]}`, -1, "", "no events"},
		{"batch context", `{"batch":[` + ok + `],"context":"c"}`, -1, "context", "must be an object"},
		{"batch bad item", `{"batch":[` + ok + `,{"type":"track","userId":"u"}]}`, 1, "event", "required for track"},
		{"type missing", `{"userId":"u"}`, 0, "type", "required"},
		{"type number", `{"type":1,"userId":"u"}`, 0, "type", "must be a string, got number"},
		{"type unknown", `{"type":"Track","userId":"u"}`, 0, "type", "unknown type"},
		{"no ids", `{"type":"identify","userId":"","anonymousId":null}`, 0, "userId", "userId or anonymousId required"},
		{"userId object", `{"type":"identify","userId":{}}`, 0, "userId", "must be a string or number, got object"},
		{"anonymousId bool", `{"type":"identify","anonymousId":true}`, 0, "anonymousId", "got boolean"},
		{"groupId array", `{"type":"group","userId":"u","groupId":["g"]}`, 0, "groupId", "got array"},
		{"track no event", `{"type":"track","userId":"u","event":""}`, 0, "event", "required for track"},
		{"event number", `{"type":"track","userId":"u","event":5}`, 0, "event", "must be a string"},
		{"page name object", `{"type":"page","userId":"u","name":{}}`, 0, "name", "must be a string"},
		{"group no groupId", `{"type":"group","userId":"u"}`, 0, "groupId", "required for group"},
		{"alias no previousId", `{"type":"alias","userId":"u"}`, 0, "previousId", "required for alias"},
		{"alias no userId", `{"type":"alias","anonymousId":"a","previousId":"p"}`, 0, "userId", "required for alias"},
		{"messageId 10k", `{"type":"identify","userId":"u","messageId":"` + long + `"}`, 0, "messageId", "too long (10000 characters, limit 100)"},
		{"messageId number", `{"type":"identify","userId":"u","messageId":7}`, 0, "messageId", "must be a string"},
		{"userId too long", `{"type":"identify","userId":"` + long[:1025] + `"}`, 0, "userId", "too long (1025 bytes, limit 1024)"},
		{"NUL userId", `{"type":"identify","userId":"a\u0000b"}`, 0, "userId", "NUL"},
		{"NUL anonymousId", `{"type":"identify","anonymousId":"\u0000"}`, 0, "anonymousId", "NUL"},
		{"NUL type", `{"type":"track\u0000","userId":"u"}`, 0, "type", "NUL"},
		{"NUL messageId", `{"type":"identify","userId":"u","messageId":"m\u0000"}`, 0, "messageId", "NUL"},
		{"NUL event", `{"type":"track","userId":"u","event":"\u0000"}`, 0, "event", "NUL"},
		{"NUL groupId", `{"type":"group","userId":"u","groupId":"\u0000"}`, 0, "groupId", "NUL"},
		{"NUL previousId", `{"type":"alias","userId":"u","previousId":"\u0000"}`, 0, "previousId", "NUL"},
		{"timestamp words", `{"type":"identify","userId":"u","timestamp":"yesterday"}`, 0, "timestamp", "not an ISO-8601 timestamp"},
		{"timestamp number", `{"type":"identify","userId":"u","originalTimestamp":1700000000}`, 0, "originalTimestamp", "got number"},
		{"timestamp empty", `{"type":"identify","userId":"u","sentAt":""}`, 0, "sentAt", "not an ISO-8601"},
		{"timestamp month 13", `{"type":"identify","userId":"u","receivedAt":"2026-13-01"}`, 0, "receivedAt", "not an ISO-8601"},
		{"too large", big, 0, "", "too large ("},
		{"too large in array", `[` + ok + `,` + big + `]`, 1, "", "limit 32768)"},
		{"too large after merge", `{"batch":[` + ok + `],"context":{"p":"` + strings.Repeat("a", MaxEventBytes) + `"}}`, 0, "", "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := Parse([]byte(tc.body))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %d events, err %v; want *ParseError", len(evs), err)
			}
			if evs != nil {
				t.Error("events returned alongside an error")
			}
			if pe.Index != tc.index || pe.Field != tc.field || !strings.Contains(pe.Msg, tc.msg) {
				t.Errorf("got %+v (%q), want index %d field %q msg containing %q", pe, pe.Error(), tc.index, tc.field, tc.msg)
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	_, err := Parse([]byte(`[{"type":"identify","userId":"u"},{"type":"identify","userId":"u"},{"type":"identify","userId":"u"},{"type":"track","userId":"u"}]`))
	if err == nil || err.Error() != `event 3: field "event": required for track` {
		t.Errorf("got %v", err)
	}
	_, err = Parse([]byte(`{`))
	if err == nil || !strings.HasPrefix(err.Error(), "body: invalid JSON: ") {
		t.Errorf("got %v", err)
	}
}
