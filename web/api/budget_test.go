package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/api"
)

// stalledClient reads nothing past the headers it is given and has a tiny
// receive buffer, so the server's writes of a large export block and the
// export keeps running until the body is closed.
func stalledClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		if err != nil {
			return err
		}
		return serr
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableCompression: true, MaxConnsPerHost: 0}}
}

// Issue 17 item 6: lists and exports run within a budget per token (8) and
// in all; past it 429 with Retry-After; single-profile GETs are exempt.
func TestReadBudget(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		// 120 events of ~30 KB: 3.6 MB per export, far more than the
		// stalled client's socket takes.
		var evs []string
		pad := strings.Repeat("x", 30000)
		for i := range 120 {
			evs = append(evs, fmt.Sprintf(`{"type":"track","messageId":"big-%d","userId":"u1","event":"E","properties":{"pad":%q}}`, i, pad))
		}
		e := setupWith(t, st, "["+strings.Join(evs, ",")+"]", api.Limits{Global: 10})
		if api.DefaultLimits.PerToken < 8 {
			t.Fatalf("per-token budget %d: the issue asks for at least 8", api.DefaultLimits.PerToken)
		}
		hold := func(token string) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("GET", e.url+"/api/v1/events/export", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := stalledClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != 200 {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("export to hold: %d %s", res.StatusCode, b)
			}
			t.Cleanup(func() { res.Body.Close() })
			return res
		}
		// A page of 70 is read in chunks and comes whole, with its cursor.
		var page struct {
			Events []json.RawMessage `json:"events"`
			Next   string            `json:"next"`
		}
		_, _, body := e.do(t, "GET", "/api/v1/events?limit=70", e.read)
		if err := json.Unmarshal(body, &page); err != nil || len(page.Events) != 70 || page.Next == "" {
			t.Fatalf("limit=70: %d events, next %q, %v", len(page.Events), page.Next, err)
		}
		_, _, body = e.do(t, "GET", "/api/v1/events?limit=500&cursor="+page.Next, e.read)
		if err := json.Unmarshal(body, &page); err != nil || len(page.Events) != 50 || page.Next != "" {
			t.Fatalf("the rest: %d events, next %q, %v", len(page.Events), page.Next, err)
		}
		if code, _, _ := e.do(t, "GET", "/api/v1/events?limit=501", e.read); code != 400 {
			t.Errorf("limit=501: %d", code)
		}
		var held []*http.Response
		for range api.DefaultLimits.PerToken {
			held = append(held, hold(e.read))
		}
		// The token is at its 8: its next list or export waits its turn.
		for _, path := range []string{"/api/v1/events/export", "/api/v1/events?limit=1", "/api/v1/users"} {
			code, hdr, body := e.do(t, "GET", path, e.read)
			if code != 429 || hdr.Get("Retry-After") == "" || !json.Valid(body) {
				t.Errorf("%s past the token's budget: %d %v %s", path, code, hdr.Get("Retry-After"), body)
			}
		}
		// A single profile is never refused.
		if code, _, body := e.do(t, "GET", "/api/v1/users/u1", e.read); code != 200 {
			t.Errorf("single profile while the token's budget is spent: %d %s", code, body)
		}
		// Another token still reads, until all tokens together hit 10.
		_, other, err := st.CreateAPIToken(context.Background(), e.ws.ID, "other", store.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		if code, _, body := e.do(t, "GET", "/api/v1/events?limit=1", other); code != 200 {
			t.Fatalf("another token: %d %s", code, body)
		}
		held = append(held, hold(other), hold(other))
		if code, _, body := e.do(t, "GET", "/api/v1/events?limit=1", other); code != 429 || !strings.Contains(string(body), "too many") {
			t.Errorf("past the global budget: %d %s", code, body)
		}
		// Closing one export gives its place back.
		held[0].Body.Close()
		testutil.WaitWithin(t, 10*time.Second, "reads to be answered again", func() bool {
			code, _, _ := e.do(t, "GET", "/api/v1/events?limit=1", e.read)
			return code == 200
		})
	})
}
