package segment

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestAssignMessageIDsOnlyToEventsWithout(t *testing.T) {
	body := []byte(`[{"type":"track","event":"A","userId":"u"},{"type":"track","event":"A","userId":"u"},{"type":"track","event":"B","userId":"u","messageId":"own-1"}]`)
	first, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Parse(body)
	if first[0].MessageID != again[0].MessageID || !first[0].MessageIDDerived || first[2].MessageIDDerived {
		t.Fatalf("Parse alone derives stable ids and marks them: %+v", first)
	}
	n := 0
	newID := func() string { n++; return strings.Repeat("x", n) }
	AssignMessageIDs(first, newID)
	AssignMessageIDs(again, newID)
	seen := map[string]bool{}
	for _, evs := range [][]Event{first, again} {
		for _, e := range evs[:2] {
			if seen[e.MessageID] || !strings.HasPrefix(e.MessageID, "inlet-") || e.MessageIDDerived {
				t.Errorf("assigned id %q not fresh", e.MessageID)
			}
			seen[e.MessageID] = true
		}
		if evs[2].MessageID != "own-1" {
			t.Errorf("an event's own messageId was replaced: %q", evs[2].MessageID)
		}
	}
}

func TestAssignedMessageIDIsWrittenIntoRaw(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"type":"track","event":"A"}`, `{"type":"track","event":"A","messageId":"inlet-x"}`},
		{`{ }`, `{ "messageId":"inlet-x"}`},
		// A present but empty id is overridden: readers keep the last key.
		{`{"messageId":"","type":"identify","userId":"u"}`, `{"messageId":"","type":"identify","userId":"u","messageId":"inlet-x"}`},
	} {
		evs := []Event{{MessageIDDerived: true, Raw: []byte(tc.raw)}}
		AssignMessageIDs(evs, func() string { return "x" })
		if string(evs[0].Raw) != tc.want {
			t.Errorf("%s → %s, want %s", tc.raw, evs[0].Raw, tc.want)
		}
		var m map[string]any
		if err := json.Unmarshal(evs[0].Raw, &m); err != nil || m["messageId"] != "inlet-x" {
			t.Errorf("%s: decoded messageId %v (%v)", evs[0].Raw, m["messageId"], err)
		}
	}
}

func TestTrackingErrorHasWhatClientLibrariesRead(t *testing.T) {
	b, err := json.Marshal(NewTrackingError(http.StatusUnauthorized, "unknown write key"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	// analytics-python: payload['code'], payload['message']; Ruby and ours: error.
	if m["code"] != "unauthorized" || m["message"] != "unknown write key" || m["error"] != "unknown write key" || m["success"] != false {
		t.Fatalf("body %s", b)
	}
	for status, code := range map[int]string{400: "invalid_request", 413: "payload_too_large", 429: "rate_limited", 503: "unavailable", 500: "internal_error"} {
		if got := TrackingErrorCode(status); got != code {
			t.Errorf("%d: %q, want %q", status, got, code)
		}
	}
}
