package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// TestAudiencesKill9 posts identifies, orders and pings for hundreds of
// users while three audiences follow them (a trait, a count, a 15-second
// window), and kills the server with SIGKILL three times while they
// arrive and once while window exits are due. After each restart the
// engine carries on from what it committed: the members are exactly what
// the definitions say of the acknowledged events, each user's transition
// events alternate entered/exited (a redo never emits one twice) and
// match the history one for one, and every window exit due while the
// server was down happens once it is back (durable timers).
func TestAudiencesKill9(t *testing.T) {
	needSuite(t)
	dbURL := testdb.PostgresURL(t)
	p := newInlet(t, dbURL, nil)
	p.start()
	audiencesThroughFaults(t, p, dbURL, p.kill, p.start)
}

// TestAudiencesDatabaseOutage is the same with PostgreSQL stopped hard
// instead of the server: the engine waits, keeps its place, and catches up.
func TestAudiencesDatabaseOutage(t *testing.T) {
	needSuite(t)
	pg := newPGCluster(t)
	p := newInlet(t, pg.URL(), map[string]string{"SHUTDOWN_TIMEOUT": outageGrace.String()})
	p.start()
	audiencesThroughFaults(t, p, pg.URL(), pg.crash, pg.start)
}

// audiencesThroughFaults runs the audiences scenario with down and up
// breaking and mending one part (the server or its database) three times
// while events arrive and once while window exits are due.
func audiencesThroughFaults(t *testing.T, p *inletProc, dbURL string, down, up func()) {
	const users = 300
	ctx := ctxFor(t, 4*time.Minute)
	token := apiToken(t, p)
	for _, def := range []string{
		`{"key":"pro","name":"Pro","condition":{"trait":"plan","op":"eq","value":"pro"}}`,
		`{"key":"buyers","name":"Buyers","condition":{"performed":{"event":"Order Completed","count":{"op":"gte","value":2}}}}`,
		`{"key":"recent","name":"Pinged lately","condition":{"performed":{"event":"Ping","within":"15s"}}}`,
	} {
		if code, body := apiCall(t, p, token, "POST", "/api/v1/audiences", def); code != http.StatusCreated {
			t.Fatalf("create audience: %d %s", code, body)
		}
	}

	// Each user: three identifies (the last one's plan wins), i%4 orders,
	// and for even users a ping stamped 5 s ago (its window closes 10 s
	// after it is sent).
	wantPro, wantBuyers := map[string]bool{}, map[string]bool{}
	var pinged []string
	rounds := make([][]string, 3)
	start := time.Now().UTC()
	for i := range users {
		u := fmt.Sprintf("user-%d", i)
		for r := range 3 {
			plan := []string{"free", "pro"}[(i+r)%2]
			rounds[r] = append(rounds[r], fmt.Sprintf(`{"type":"identify","userId":%q,"messageId":"id-%s-%d","timestamp":%q,"traits":{"plan":%q}}`,
				u, u, r, start.Add(time.Duration(r)*time.Second).Format(time.RFC3339Nano), plan))
			if r == 2 && plan == "pro" {
				wantPro[u] = true
			}
		}
		for o := range i % 4 {
			rounds[o%3] = append(rounds[o%3], fmt.Sprintf(`{"type":"track","event":"Order Completed","userId":%q,"messageId":"order-%s-%d","properties":{"total":10}}`, u, u, o))
		}
		if i%4 >= 2 {
			wantBuyers[u] = true
		}
		if i%2 == 0 {
			pinged = append(pinged, u)
			rounds[i%3] = append(rounds[i%3], fmt.Sprintf(`{"type":"track","event":"Ping","userId":%q,"messageId":"ping-%s","timestamp":"PING"}`, u, u))
		}
	}

	// Each round is sent by 16 senders that retry as Segment does; the
	// fault comes once a third of the round is acknowledged.
	var lastPing atomic.Int64
	for r, bodies := range rounds {
		var acked atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			sendAll(ctx, t, p, bodies, &acked, &lastPing)
		}()
		testutil.WaitWithin(t, time.Minute, "a third of the round acknowledged", func() bool { return acked.Load() >= int64(len(bodies)/3) })
		down()
		up()
		<-done
		t.Logf("round %d: %d events acknowledged, one fault", r, acked.Load())
	}

	// Down again while window exits are due, once every ping has made its
	// user enter (a ping first evaluated after its window closed rightly
	// enters no one): the windows close during the fault, and the exits
	// happen once it is mended.
	testutil.WaitWithin(t, time.Minute, "every pinged user to enter recent", func() bool {
		var n int
		err := withDB(ctx, dbURL, func(conn *pgx.Conn) error {
			return conn.QueryRow(ctx, "SELECT count(*) FROM audience_history WHERE audience_key = 'recent' AND entered").Scan(&n)
		})
		return err == nil && n == len(pinged)
	})
	down()
	edge := time.Unix(0, lastPing.Load()).Add(15 * time.Second)
	select {
	case <-ctx.Done():
		t.Fatal(ctx.Err())
	case <-time.After(time.Until(edge)):
	}
	up()
	back := time.Now()

	members := func(key string) map[string]bool {
		out := map[string]bool{}
		cursor := ""
		for {
			code, body := apiCall(t, p, token, "GET", "/api/v1/audiences/"+key+"/members?limit=1000&cursor="+cursor, "")
			var page struct {
				Members []struct{ UserID string }
				Next    string
			}
			if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
				t.Fatalf("members of %s: %d %s", key, code, body)
			}
			for _, m := range page.Members {
				out[m.UserID] = true
			}
			if page.Next == "" {
				return out
			}
			cursor = page.Next
		}
	}
	same := func(a, b map[string]bool) bool {
		if len(a) != len(b) {
			return false
		}
		for k := range a {
			if !b[k] {
				return false
			}
		}
		return true
	}
	testutil.WaitWithin(t, time.Minute, "memberships to match the definitions", func() bool {
		return same(members("pro"), wantPro) && same(members("buyers"), wantBuyers) && len(members("recent")) == 0
	})
	t.Logf("figures: %d users, %d pro, %d buyers, %d pinged; memberships right %s after the last fault ended",
		users, len(wantPro), len(wantBuyers), len(pinged), time.Since(back).Round(time.Millisecond))

	// The transitions: events and history one for one, alternating.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	type seq struct{ events, history []bool }
	got := map[[2]string]*seq{}
	at := func(u, key string) *seq {
		k := [2]string{u, key}
		if got[k] == nil {
			got[k] = &seq{}
		}
		return got[k]
	}
	rows, err := conn.Query(ctx, `SELECT user_id, raw->'properties'->>'audience_key', event = 'Audience Entered'
		FROM events WHERE source = 'audiences' ORDER BY timestamp, id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var u, key string
		var entered bool
		if err := rows.Scan(&u, &key, &entered); err != nil {
			t.Fatal(err)
		}
		s := at(u, key)
		s.events = append(s.events, entered)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	rows, err = conn.Query(ctx, `SELECT user_id, audience_key, entered, cause FROM audience_history ORDER BY at, id`)
	if err != nil {
		t.Fatal(err)
	}
	timeExits := 0
	for rows.Next() {
		var u, key, cause string
		var entered bool
		if err := rows.Scan(&u, &key, &entered, &cause); err != nil {
			t.Fatal(err)
		}
		s := at(u, key)
		s.history = append(s.history, entered)
		if key == "recent" && !entered && cause == "time" {
			timeExits++
		}
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	transitions := 0
	for k, s := range got {
		if !slices.Equal(s.events, s.history) {
			t.Errorf("%s in %s: transition events %v, history %v", k[0], k[1], s.events, s.history)
		}
		for i, entered := range s.events {
			if entered != (i%2 == 0) {
				t.Errorf("%s in %s: transitions do not alternate: %v", k[0], k[1], s.events)
				break
			}
		}
		transitions += len(s.events)
	}
	for _, u := range pinged {
		if s := got[[2]string{u, "recent"}]; s == nil || !slices.Equal(s.events, []bool{true, false}) {
			t.Errorf("%s pinged once: recent transitions %v, want entered then exited", u, s)
		}
	}
	if timeExits != len(pinged) {
		t.Errorf("%d window exits caused by time, want %d", timeExits, len(pinged))
	}
	t.Logf("figures: %d transition events, each with its history row; %d window exits by time", transitions, timeExits)
}

// withDB runs fn on a connection of its own: the test's queries outlive a
// database that is stopped and started.
func withDB(ctx context.Context, dbURL string, fn func(*pgx.Conn) error) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return fn(conn)
}

// sendAll posts each body once, signed as Segment signs, retrying on a
// refusal or no answer (the server may be down) until it is acknowledged.
// A body's "PING" timestamp becomes 5 s before the attempt that carries
// it; lastPing keeps the latest such time.
func sendAll(ctx context.Context, t *testing.T, p *inletProc, bodies []string, acked, lastPing *atomic.Int64) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	client := &http.Client{Timeout: 10 * time.Second}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(bodies) {
					return
				}
				for {
					body := bodies[i]
					if strings.Contains(body, `"PING"`) {
						ts := time.Now().Add(-5 * time.Second)
						for {
							old := lastPing.Load()
							if ts.UnixNano() <= old || lastPing.CompareAndSwap(old, ts.UnixNano()) {
								break
							}
						}
						body = strings.Replace(body, `"PING"`, `"`+ts.UTC().Format(time.RFC3339Nano)+`"`, 1)
					}
					if ctx.Err() != nil {
						t.Errorf("gave up sending: %v", ctx.Err())
						return
					}
					req, _ := http.NewRequestWithContext(ctx, "POST", p.webhookURL(), strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Signature", segment.Sign([]byte(testSecret), []byte(body)))
					resp, err := client.Do(req)
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode/100 == 2 {
							acked.Add(1)
							break
						}
					}
					select {
					case <-ctx.Done():
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
		}()
	}
	wg.Wait()
}

// apiToken makes a write token for the default workspace, as an operator
// does with `inlet token create`.
func apiToken(t *testing.T, p *inletProc) string {
	t.Helper()
	cmd := exec.Command(inletBin, "token", "create", "--scope", "write", "--name", "reliability")
	cmd.Env = p.environ()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("inlet token create: %v\n%s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// apiCall sends one /api/v1 request with token and answers its status and body.
func apiCall(t *testing.T, p *inletProc, token, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, p.baseURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}
