package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

func TestParseEventFilter(t *testing.T) {
	t.Parallel()
	ws := store.EventFilter{WorkspaceID: uuid.New(), Limit: 7}
	f, msg := store.ParseEventFilter(map[string][]string{
		"type": {" track "}, "event": {"Signed Up"}, "user": {"u1"}, "from": {"2026-05-06T14:30"}, "to": {"2026-05-06T15:00:00+02:00"},
	}, ws)
	want := store.EventFilter{WorkspaceID: ws.WorkspaceID, Limit: 7, Type: "track", Event: "Signed Up", User: "u1",
		From: time.Date(2026, 5, 6, 14, 30, 0, 0, time.UTC), To: time.Date(2026, 5, 6, 13, 0, 0, 0, time.UTC)}
	if msg != "" || f.Type != want.Type || f.Event != want.Event || f.User != want.User || !f.From.Equal(want.From) ||
		!f.To.Equal(want.To) || f.WorkspaceID != want.WorkspaceID || f.Limit != 7 {
		t.Fatalf("got %+v %q, want %+v", f, msg, want)
	}
	for _, c := range []struct {
		q    map[string][]string
		want string
	}{
		{map[string][]string{"type": {"click"}}, "type: one of track, identify, page, screen, group, alias, delete"},
		{map[string][]string{"event": {strings.Repeat("x", store.MaxSearchText+1)}}, "event/user: too long or not valid text"},
		{map[string][]string{"user": {"a\x00b"}}, "event/user: too long or not valid text"},
		{map[string][]string{"user": {"\xff"}}, "event/user: too long or not valid text"},
		{map[string][]string{"from": {"yesterday"}}, "from: an RFC 3339 time such as 2026-05-06T14:30:00Z"},
		{map[string][]string{"to": {"1900-01-01"}}, "to: an RFC 3339 time such as 2026-05-06T15:00:00Z"},
	} {
		if _, msg := store.ParseEventFilter(c.q, ws); msg != c.want {
			t.Errorf("%v: %q, want %q", c.q, msg, c.want)
		}
	}
}

func TestValidSearchText(t *testing.T) {
	t.Parallel()
	for v, want := range map[string]bool{
		"": true, "ann@example.com": true, strings.Repeat("é", store.MaxSearchText/2): true,
		strings.Repeat("x", store.MaxSearchText+1): false, "a\x00": false, "\xc3": false,
	} {
		if got := store.ValidSearchText(v); got != want {
			t.Errorf("ValidSearchText(%.20q) = %v, want %v", v, got, want)
		}
	}
}
