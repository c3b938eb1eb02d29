package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// A filter the API does not know must not be dropped silently: ?userId=u1
// (the event field's name; the filter is ?user=) answered every user's
// events, so an export meant for one person carried everyone's. Unknown
// parameters answer 400 naming the ones the route takes; known ones keep
// working.
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := setup(t, st, sample)
		for _, path := range []string{
			"/api/v1/events?userId=u1",
			"/api/v1/events?user=u1&anonymousId=a1",
			"/api/v1/events/export?userId=u1",
			"/api/v1/events/export?limit=5",
			"/api/v1/users?email=ann@example.com",
			"/api/v1/users?traits.email=ann@example.com",
		} {
			code, _, body := e.do(t, "GET", path, e.read)
			var got struct{ Error string }
			if code != 400 || json.Unmarshal(body, &got) != nil || !strings.Contains(got.Error, "unknown query parameter") ||
				!strings.Contains(got.Error, "this route takes") {
				t.Errorf("GET %s: %d %s, want 400 naming the unknown parameter", path, code, body)
			}
		}
		for _, path := range []string{
			"/api/v1/events?user=u1&type=identify&limit=5",
			"/api/v1/events/export?user=u1",
			"/api/v1/users?trait.email=ann@example.com&limit=5",
			"/api/v1/users?anonymousId=a1",
		} {
			if code, _, body := e.do(t, "GET", path, e.read); code != 200 {
				t.Errorf("GET %s: %d %s, want 200", path, code, body)
			}
		}
		// The right filter answers only that user's events.
		_, _, body := e.do(t, "GET", "/api/v1/events?user=u1", e.read)
		var page struct{ Events []struct{ UserID string } }
		if err := json.Unmarshal(body, &page); err != nil || len(page.Events) == 0 {
			t.Fatalf("events of u1: %v %s", err, body)
		}
		for _, ev := range page.Events {
			if ev.UserID != "u1" {
				t.Errorf("?user=u1 answered an event of %q", ev.UserID)
			}
		}
	})
}
