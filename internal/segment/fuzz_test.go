package segment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// nested wraps inner in depth levels of open/close, e.g. "[" and "]".
func nested(open, inner, close string, depth int) []byte {
	return []byte(strings.Repeat(open, depth) + inner + strings.Repeat(close, depth))
}

func TestDeepNesting(t *testing.T) {
	const depth = 200_000
	bodies := map[string][]byte{
		"array":      nested("[", "", "]", depth),
		"object":     nested(`{"a":`, "1", "}", depth),
		"properties": append(append([]byte(`{"type":"track","userId":"u","event":"E","properties":`), nested("[", "", "]", depth)...), '}'),
		"batch":      append(append([]byte(`{"batch":`), nested("[", "", "]", depth)...), '}'),
		"unclosed":   []byte(strings.Repeat("[", depth)),
	}
	for name, body := range bodies {
		start := time.Now()
		_, err := Parse(body)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Index != -1 || !strings.Contains(pe.Msg, "invalid JSON") {
			t.Errorf("%s: got %v, want a body-level invalid JSON error", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", name, d)
		}
		if err := Verify([]byte("s"), body, strings.Repeat("0", 40)); !errors.Is(err, ErrSignatureMismatch) {
			t.Errorf("%s: Verify = %v", name, err)
		}
	}
}

func TestHugeNumber(t *testing.T) {
	body := []byte(`[{"type":"track","userId":"u","event":"E","properties":{"n":1e999999,"m":-1E-999999}}]`)
	ev := mustParse(t, body)[0]
	if !bytes.Contains(ev.Raw, []byte("1e999999")) {
		t.Errorf("Raw = %s", ev.Raw)
	}
}

func manyTinyEvents(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"track","userId":"u%d","event":"E"}`, i)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// A body of 100,000 tiny events parses into exactly those events. How fast
// is BenchmarkParseManyTinyEvents' business: a wall-clock bound here failed
// on a loaded machine without saying anything about the parser.
func TestManyTinyEvents(t *testing.T) {
	const n = 100_000
	evs := mustParse(t, manyTinyEvents(n))
	if len(evs) != n || evs[n-1].UserID != fmt.Sprint("u", n-1) {
		t.Fatalf("got %d events", len(evs))
	}
}

// The parser stays linear in the number of events: compare ns/op across
// -bench 'ParseManyTinyEvents' sizes.
func BenchmarkParseManyTinyEvents(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		body := manyTinyEvents(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Parse(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzParseVerify(f *testing.F) {
	for _, name := range []string{"identify.json", "track.json", "page.json", "screen.json",
		"group.json", "alias.json", "delete.json", "actions-batch.json", "tracking-api-batch.json"} {
		f.Add(readFixture(f, name), []byte(fixtureSecret))
	}
	hostile := []string{
		``, ` `, `null`, `[]`, `{}`, `[1]`, `[{}]`, `{"batch":[]}`, `{"batch":null}`,
		`{"batch":[{"type":"track","userId":"u","event":"E","context":{"a":1}}],"context":{"a":2,"b":3},"sentAt":"2026-01-01"}`,
		`{"batch":[{"type":"identify","userId":"u","context":7,"integrations":null}],"integrations":{"x":true}}`,
		`{"type":"track","userId":"u","event":"E"} x`,
		`{"type":"track","userId":"a\u0000","event":"E"}`,
		`{"type":"identify","userId":1e999999,"properties":{"n":1e999999}}`,
		`{"type":"identify","anonymousId":"a","timestamp":"2026-11-20 09:14:03.117+0000"}`,
		`{"type":"page","userId":"u","name":"\ud800","messageId":"\u00e9"}`,
		`[{"type":"alias","userId":"u","previousId":"p"},42]`,
		"{\"type\":\"identify\",\"userId\":\"\xff\"}",
		`{"type":"identify","userId":"u","messageId":"` + strings.Repeat("é", 101) + `"}`,
		string(nested("[", "", "]", 20_000)),
	}
	for _, h := range hostile {
		f.Add([]byte(h), []byte("s"))
	}
	f.Fuzz(func(t *testing.T, body, secret []byte) {
		if len(secret) > 0 {
			sig := Sign(secret, body)
			if err := Verify(secret, body, sig); err != nil {
				t.Fatalf("Verify(Sign(body)) = %v", err)
			}
			if err := VerifyAny([][]byte{nil, []byte("x"), secret}, body, strings.ToUpper(sig)); err != nil {
				t.Fatalf("VerifyAny(upper(Sign(body))) = %v", err)
			}
		}
		evs, err := Parse(body)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || evs != nil || pe.Error() == "" {
				t.Fatalf("Parse error %T %v with %d events", err, err, len(evs))
			}
			return
		}
		if len(evs) == 0 {
			t.Fatal("no events and no error")
		}
		for i, ev := range evs {
			checkEvent(t, i, ev)
		}
		rest := trimSpace(body)
		var top map[string]json.RawMessage
		switch {
		case rest[0] == '[':
			for i, ev := range evs {
				if !bytes.Contains(body, ev.Raw) {
					t.Fatalf("event %d: Raw is not verbatim from the body", i)
				}
			}
			// Raw of element 0 is exactly what Segment signs.
			if len(secret) > 0 {
				if err := Verify(secret, body, Sign(secret, evs[0].Raw)); err != nil {
					t.Fatalf("element 0 Raw does not verify: %v", err)
				}
			}
		case json.Unmarshal(body, &top) == nil && top["batch"] == nil:
			if len(evs) != 1 || !bytes.Equal(evs[0].Raw, rest) {
				t.Fatalf("single-object Raw differs from the body")
			}
		}
	})
}

func checkEvent(t *testing.T, i int, ev Event) {
	t.Helper()
	if !ValidType(ev.Type) || ev.MessageID == "" || utf8.RuneCountInString(ev.MessageID) > MaxMessageIDLen {
		t.Fatalf("event %d: bad Type %q or MessageID %q", i, ev.Type, ev.MessageID)
	}
	if ev.UserID == "" && ev.AnonymousID == "" {
		t.Fatalf("event %d: no id", i)
	}
	if !json.Valid(ev.Raw) || !utf8.Valid(ev.Raw) || len(ev.Raw) > MaxEventBytes {
		t.Fatalf("event %d: bad Raw %q", i, ev.Raw)
	}
	for _, s := range []string{ev.Type, ev.MessageID, ev.UserID, ev.AnonymousID, ev.Event, ev.GroupID, ev.PreviousID} {
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			t.Fatalf("event %d: NUL or invalid UTF-8 in typed field %q", i, s)
		}
	}
	if !ev.Timestamp.IsZero() && ev.Timestamp.Location() != time.UTC {
		t.Fatalf("event %d: Timestamp not UTC: %v", i, ev.Timestamp)
	}
}
