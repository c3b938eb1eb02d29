package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// oddIDs are ids Segment allows that a path must carry escaped.
var oddIDs = []string{"a/b", "a", "b", "a%2Fb", "100%", "a+b", "a b", "café ☕ 用户", "../x", "?q=1#f", "%41", strings.Repeat("é/", 66) + "zz"}

// Issue 17 item 3: every id reaches the route whole, however it is
// escaped; DELETE /api/v1/users/a%2Fb erases exactly "a/b".
func TestIDsOfAnyShape(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		var evs []string
		for i, id := range oddIDs {
			b, _ := json.Marshal(id)
			evs = append(evs, fmt.Sprintf(`{"type":"identify","messageId":"m%d","userId":%s,"traits":{"n":%d}}`, i, b, i))
		}
		e := setup(t, st, "["+strings.Join(evs, ",")+"]")
		for i, id := range oddIDs {
			if len(id) > 200 {
				t.Fatalf("test id longer than Segment allows: %d bytes", len(id))
			}
			code, _, body := e.do(t, "GET", "/api/v1/users/"+url.PathEscape(id), e.read)
			var u struct {
				UserID string         `json:"userId"`
				Traits map[string]int `json:"traits"`
			}
			_ = json.Unmarshal(body, &u)
			if code != 200 || u.UserID != id || u.Traits["n"] != i {
				t.Errorf("GET %q: %d %s", id, code, body)
			}
		}
		// Erase a/b: a, b and the literal "a%2Fb" stay.
		code, _, body := e.do(t, "DELETE", "/api/v1/users/a%2Fb", e.write)
		if code != 200 || !strings.Contains(string(body), `"eventsDeleted":1`) {
			t.Fatalf("DELETE a%%2Fb: %d %s", code, body)
		}
		code, _, body = e.do(t, "GET", "/api/v1/users/a%2Fb", e.read)
		if code != 404 || !strings.Contains(string(body), `"suppressed":true`) {
			t.Errorf("a/b after its erasure: %d %s", code, body)
		}
		for _, id := range []string{"a", "b", "a%2Fb"} {
			if code, _, body := e.do(t, "GET", "/api/v1/users/"+url.PathEscape(id), e.read); code != 200 {
				t.Errorf("%q after erasing a/b: %d %s", id, code, body)
			}
		}
		// Lifting names the same id.
		if code, _, body := e.do(t, "DELETE", "/api/v1/suppressions/a%2Fb", e.write); code != 200 {
			t.Errorf("lift a/b: %d %s", code, body)
		}
		if code, _, body := e.do(t, "DELETE", "/api/v1/suppressions/a", e.write); code != 404 {
			t.Errorf("lift a (never erased): %d %s", code, body)
		}
		// Ids that are not text are refused, not looked up.
		if code, _, body := e.do(t, "GET", "/api/v1/users/%FF", e.read); code != 400 {
			t.Errorf("GET of an id that is not UTF-8: %d %s", code, body)
		}
	})
}
