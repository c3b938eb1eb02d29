package api_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

const sample = `[
 {"type":"identify","messageId":"m1","userId":"u1","anonymousId":"a1","timestamp":"2025-03-01T12:00:01Z","traits":{"email":"ann@example.com","plan":"free"}},
 {"type":"identify","messageId":"m2","userId":"u1","timestamp":"2025-03-01T12:00:05Z","traits":{"plan":"pro","nick":null}},
 {"type":"track","messageId":"m3","anonymousId":"a1","event":"Viewed","timestamp":"2025-03-01T12:00:00Z",
   "properties": {"big": 12345678901234567890, "s": "caf\u00e9"}},
 {"type":"group","messageId":"m4","userId":"u1","groupId":"acme","timestamp":"2025-03-01T12:00:06Z","traits":{"name":"Acme"}},
 {"type":"page","messageId":"m5","anonymousId":"a9","name":"Home","timestamp":"2025-03-01T12:00:07Z"},
 {"type":"identify","messageId":"m6","userId":"u2","timestamp":"2025-03-01T12:00:08Z","traits":{"email":"bo@example.com"}}
]`

func TestAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := setup(t, st, sample)

		t.Run("tokens", func(t *testing.T) {
			for _, c := range []struct {
				name, token string
				want        int
			}{{"missing", "", 401}, {"unknown", "inlet_nope", 401}} {
				code, _, body := e.do(t, "GET", "/api/v1/users/u1", c.token)
				if code != c.want || !json.Valid(body) || !strings.Contains(string(body), `"error"`) {
					t.Errorf("%s token: %d %s", c.name, code, body)
				}
			}
			if code, _, body := e.do(t, "DELETE", "/api/v1/users/u1", e.read); code != 403 || !strings.Contains(string(body), "error") {
				t.Errorf("read token on a write route: %d %s", code, body)
			}
			tok, plain, err := st.CreateAPIToken(context.Background(), e.ws.ID, "", store.ScopeRead)
			if err != nil {
				t.Fatal(err)
			}
			if code, _, _ := e.do(t, "GET", "/api/v1/users/u1", plain); code != 200 {
				t.Errorf("fresh token: %d", code)
			}
			if err := st.RevokeAPIToken(context.Background(), e.ws.ID, tok.ID); err != nil {
				t.Fatal(err)
			}
			// Revoked from outside this server (as the CLI does): refused
			// once the credential cache's 5 s are up.
			testutil.WaitWithin(t, 10*time.Second, "the revoked token to be refused", func() bool {
				code, _, _ := e.do(t, "GET", "/api/v1/users/u1", plain)
				return code == 401
			})
		})

		t.Run("user", func(t *testing.T) {
			code, _, body := e.do(t, "GET", "/api/v1/users/u1", e.read)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			var u struct {
				UserID       *string                    `json:"userId"`
				AnonymousIDs []string                   `json:"anonymousIds"`
				Traits       map[string]json.RawMessage `json:"traits"`
				Groups       []struct {
					GroupID string         `json:"groupId"`
					Traits  map[string]any `json:"traits"`
				} `json:"groups"`
				FirstSeen, LastSeen string
				EventCount          int `json:"eventCount"`
			}
			if err := json.Unmarshal(body, &u); err != nil {
				t.Fatal(err)
			}
			if u.UserID == nil || *u.UserID != "u1" || fmt.Sprint(u.AnonymousIDs) != "[a1]" || u.EventCount != 4 ||
				string(u.Traits["plan"]) != `"pro"` || string(u.Traits["nick"]) != "null" || string(u.Traits["email"]) != `"ann@example.com"` ||
				len(u.Groups) != 1 || u.Groups[0].GroupID != "acme" || u.Groups[0].Traits["name"] != "Acme" ||
				u.FirstSeen != "2025-03-01T12:00:00Z" || u.LastSeen != "2025-03-01T12:00:06Z" {
				t.Errorf("profile: %s", body)
			}
			if code, _, body := e.do(t, "GET", "/api/v1/users/nobody", e.read); code != 404 || !strings.Contains(string(body), `"error"`) {
				t.Errorf("unknown user: %d %s", code, body)
			}
		})

		t.Run("find", func(t *testing.T) {
			for q, want := range map[string]string{
				"anonymousId=a1":             "u1",
				"anonymousId=a9":             "null",
				"trait.email=bo@example.com": "u2",
			} {
				code, _, body := e.do(t, "GET", "/api/v1/users?"+q, e.read)
				var r struct {
					Users []struct {
						UserID *string `json:"userId"`
					} `json:"users"`
				}
				_ = json.Unmarshal(body, &r)
				got := "null"
				if len(r.Users) == 1 && r.Users[0].UserID != nil {
					got = *r.Users[0].UserID
				}
				if code != 200 || len(r.Users) != 1 || got != want {
					t.Errorf("%s: %d %s", q, code, body)
				}
			}
			code, _, body := e.do(t, "GET", "/api/v1/users?anonymousId=zzz", e.read)
			if code != 200 || !strings.Contains(string(body), `"users":[]`) {
				t.Errorf("unknown anonymous id: %d %s", code, body)
			}
			// List two by two, newest last seen first, following next.
			var seen []string
			cursor := ""
			for range 5 {
				_, _, body := e.do(t, "GET", "/api/v1/users?limit=2&cursor="+cursor, e.read)
				var r struct {
					Users []struct {
						UserID       *string  `json:"userId"`
						AnonymousIDs []string `json:"anonymousIds"`
					} `json:"users"`
					Next string `json:"next"`
				}
				if err := json.Unmarshal(body, &r); err != nil {
					t.Fatal(err)
				}
				for _, u := range r.Users {
					if u.UserID != nil {
						seen = append(seen, *u.UserID)
					} else {
						seen = append(seen, "anon:"+strings.Join(u.AnonymousIDs, ","))
					}
				}
				if cursor = r.Next; cursor == "" {
					break
				}
			}
			if fmt.Sprint(seen) != "[u2 anon:a9 u1]" {
				t.Errorf("list: %v", seen)
			}
		})

		t.Run("events", func(t *testing.T) {
			code, _, body := e.do(t, "GET", "/api/v1/events?user=a1", e.read)
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			// raw is embedded as sent: the big number survives as written.
			if !strings.Contains(string(body), `"big":12345678901234567890`) || !strings.Contains(string(body), `"next":""`) {
				t.Errorf("events: %s", body)
			}
			var r struct {
				Events []struct {
					MessageID, Type, ReceivedAt string
					Raw                         json.RawMessage
				} `json:"events"`
			}
			_ = json.Unmarshal(body, &r)
			if len(r.Events) != 2 || r.Events[0].MessageID == "" || r.Events[0].ReceivedAt == "" || len(r.Events[0].Raw) == 0 {
				t.Errorf("events: %s", body)
			}
			if code, _, _ := e.do(t, "GET", "/api/v1/events?from=yesterday", e.read); code != 400 {
				t.Errorf("bad from: %d", code)
			}
			_, _, body = e.do(t, "GET", "/api/v1/events?limit=4", e.read)
			var p struct{ Next string }
			_ = json.Unmarshal(body, &p)
			_, _, body2 := e.do(t, "GET", "/api/v1/events?limit=4&cursor="+p.Next, e.read)
			if p.Next == "" || strings.Count(string(body2), `"receivedAt"`) != 2 {
				t.Errorf("second page: %s", body2)
			}
		})

		t.Run("export", func(t *testing.T) {
			code, hdr, body := e.do(t, "GET", "/api/v1/events/export?type=identify", e.read)
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			if code != 200 || hdr.Get("Content-Type") != "application/x-ndjson" || len(lines) != 3 {
				t.Fatalf("export: %d %v %q", code, hdr, body)
			}
			for _, l := range lines {
				if !json.Valid([]byte(l)) {
					t.Errorf("not one JSON event per line: %q", l)
				}
			}
			code, hdr, body = e.do(t, "GET", "/api/v1/events/export", e.read, "Accept-Encoding", "gzip")
			if code != 200 || hdr.Get("Content-Encoding") != "gzip" {
				t.Fatalf("gzip export: %d %v", code, hdr)
			}
			zr, err := gzip.NewReader(strings.NewReader(string(body)))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for sc := bufio.NewScanner(zr); sc.Scan(); n++ {
			}
			if n != 6 {
				t.Errorf("gzip export: %d lines", n)
			}
		})

		t.Run("openapi", func(t *testing.T) {
			code, _, body := e.do(t, "GET", "/api/v1/openapi.json", "")
			if code != 200 || !json.Valid(body) || !strings.Contains(string(body), `"/users/{userId}"`) {
				t.Errorf("openapi: %d", code)
			}
		})

		t.Run("delete", func(t *testing.T) {
			code, _, body := e.do(t, "DELETE", "/api/v1/users/u1", e.write)
			if code != 200 || !strings.Contains(string(body), `"eventsDeleted":4`) {
				t.Fatalf("delete: %d %s", code, body)
			}
			code, _, body = e.do(t, "GET", "/api/v1/users/u1", e.read)
			if code != 404 || !strings.Contains(string(body), `"suppressed":true`) {
				t.Errorf("after delete: %d %s", code, body)
			}
			if code, _, body := e.do(t, "GET", "/api/v1/events?user=a1", e.read); !strings.Contains(string(body), `"events":[]`) {
				t.Errorf("events after delete: %d %s", code, body)
			}
			if code, _, body := e.do(t, "DELETE", "/api/v1/suppressions/u1", e.write); code != 200 {
				t.Errorf("lift: %d %s", code, body)
			}
			if code, _, body := e.do(t, "GET", "/api/v1/users/u1", e.read); code != 404 || !strings.Contains(string(body), `"suppressed":false`) {
				t.Errorf("after lifting: %d %s", code, body)
			}
		})
	})
}

// A refused merge is in both profiles' answers, valid against openapi.json.
// (setup stores events as untrusted: the alias is a client key's.)
func TestMergeRefusalsInUserAnswers(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		e := setup(t, st, `[{"type":"identify","messageId":"a1","userId":"alice"},
			{"type":"identify","messageId":"m1","userId":"mallory"},
			{"type":"alias","messageId":"forge","previousId":"alice","userId":"mallory"}]`)
		for who, other := range map[string]string{"alice": "mallory", "mallory": "alice"} {
			code, _, body := e.do(t, "GET", "/api/v1/users/"+who, e.read)
			var u struct {
				UserID        string `json:"userId"`
				MergeRefusals []struct {
					Message, OtherID, Reason string
				} `json:"mergeRefusals"`
				MergeRefusalsTotal int `json:"mergeRefusalsTotal"`
			}
			if err := json.Unmarshal(body, &u); err != nil || code != 200 {
				t.Fatalf("GET %s: %d %s", who, code, body)
			}
			if u.UserID != who || u.MergeRefusalsTotal != 1 || len(u.MergeRefusals) != 1 ||
				u.MergeRefusals[0].OtherID != other || u.MergeRefusals[0].Reason != "untrusted" ||
				!strings.HasPrefix(u.MergeRefusals[0].Message, "merge refused with "+other) {
				t.Errorf("GET %s: %s", who, body)
			}
		}
	})
}
