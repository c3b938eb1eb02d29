// Command inlet-bench-audiences measures audiences at scale on PostgreSQL
// (issue 20, docs/benchmarks.md): it creates a scratch database, seeds
// -events events of -users users server-side (generate_series) with
// timestamps over the last 60 days, builds the profiles with `inlet
// profiles rebuild`, starts `inlet serve` on it and times, over the API:
// the build of new `performed … within 30d` audiences (POST to status
// ready), previews (POST /api/v1/audiences/preview) and members pages
// (GET /api/v1/audiences/{key}/members). It prints medians and drops the
// database afterwards (unless -keep).
//
//	go build -o /tmp/inlet ./cmd/inlet
//	go run ./cmd/inlet-bench-audiences -inlet /tmp/inlet -events 5000000 -users 100000
//
// With -edge N it measures instead how long N users leaving together at a
// window's edge take (edge.go).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/inlet-dev/inlet/internal/store"
)

type options struct {
	admin, inlet, keepName string
	events, users          int
	builds, previews       int
	pages, edge            int
	keep, rebuild          bool
}

func main() {
	var o options
	flag.StringVar(&o.admin, "admin-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL server to create the scratch database on")
	flag.StringVar(&o.inlet, "inlet", "", "path to a built inlet binary")
	flag.IntVar(&o.events, "events", 5_000_000, "events to seed")
	flag.IntVar(&o.users, "users", 100_000, "distinct userIds (profiles)")
	flag.IntVar(&o.builds, "builds", 3, "new audiences built one after another")
	flag.IntVar(&o.previews, "previews", 5, "previews timed")
	flag.IntVar(&o.pages, "pages", 50, "members pages timed")
	flag.StringVar(&o.keepName, "reuse", "", "an already seeded scratch database to measure again (kept afterwards; audiences it holds are deleted first)")
	flag.BoolVar(&o.rebuild, "rebuild", false, "build the profiles with `inlet profiles rebuild` (minutes at 5M events) instead of seeding them in SQL")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch database (measure it again with -reuse NAME, then DROP DATABASE it)")
	flag.IntVar(&o.edge, "edge", 0, "instead: N users leave together at a window's edge; time the first and the last exit (edge.go)")
	flag.Parse()
	if o.inlet == "" {
		fmt.Fprintln(os.Stderr, "inlet-bench-audiences: -inlet is required")
		os.Exit(2)
	}
	work := run
	if o.edge > 0 {
		work = runEdge
	}
	if err := work(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "inlet-bench-audiences:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	sc, err := openScratch(ctx, o.admin, "inlet_scale_", o.keepName, o.keep)
	if err != nil {
		return err
	}
	defer sc.close()
	ws, db, dbURL, name := sc.ws, sc.db, sc.url, sc.name
	fmt.Printf("## Audiences at scale (%s, database %s)\n\n", time.Now().UTC().Format("2006-01-02"), name)
	if o.keepName == "" {
		start := time.Now()
		if err := seed(ctx, db, ws.ID, o); err != nil {
			return err
		}
		fmt.Printf("- Seeded %d events of %d users in %s.\n", o.events, o.users, time.Since(start).Round(time.Second))
		start = time.Now()
		how := "`inlet profiles rebuild`"
		if o.rebuild {
			rebuild := exec.CommandContext(ctx, o.inlet, "profiles", "rebuild", "--workspace", ws.ID.String())
			rebuild.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
			if out, err := rebuild.CombinedOutput(); err != nil {
				return fmt.Errorf("profiles rebuild: %v: %s", err, out)
			}
		} else {
			how = "profiles seeded in SQL"
			if err := seedProfiles(ctx, db, ws.ID); err != nil {
				return err
			}
		}
		var n int64
		_ = db.QueryRowContext(ctx, "SELECT count(*) FROM profiles").Scan(&n)
		fmt.Printf("- %s: %d profiles in %s.\n", how, n, time.Since(start).Round(time.Second))
		if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
			return err
		}
	}
	if o.keepName != "" {
		// A measured database again: start without the audiences of the last run.
		for _, q := range []string{"DELETE FROM audiences", "DELETE FROM audience_members", "DELETE FROM audience_history",
			"DELETE FROM audience_leaf_states", "DELETE FROM audience_leaves", "DELETE FROM timers", "DELETE FROM audience_dirty",
			"DELETE FROM events WHERE source = 'audiences'"} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				return err
			}
		}
	}
	var orders int64
	_ = db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE event = 'Order Completed'").Scan(&orders)
	fmt.Printf("- %d `Order Completed` events (about half of them in the last 30 days).\n\n", orders)

	// This shared test cluster runs with autovacuum off, so nothing would
	// analyze the audience tables while a build fills them, and with the
	// statistics of empty tables PostgreSQL scans a whole table for each
	// lookup by key. ANALYZE every 10 s stands in for autovacuum (as in
	// inlet-bench-profiles).
	analyzeDone := make(chan struct{})
	defer close(analyzeDone)
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-analyzeDone:
				return
			case <-t.C:
				_, _ = db.ExecContext(ctx, "ANALYZE timers, audience_members, audience_history, audience_leaf_states")
			}
		}
	}()
	_, c, err := sc.serve(ctx, o.inlet, 5*time.Minute)
	if err != nil {
		return err
	}
	defer stopServe()

	// Builds: each a new audience with a leaf no other reads (its own count),
	// so each fills its leaf from the stored events and evaluates every profile.
	var builds []time.Duration
	var keys []string
	for i := range o.builds {
		key := fmt.Sprintf("orders_%d", i)
		def := fmt.Sprintf(`{"key":%q,"name":"Ordered %d+ times in 30 days","condition":{"performed":{"event":"Order Completed","count":{"op":"gte","value":%d},"within":"30d"}}}`, key, i+1, i+1)
		start := time.Now()
		if code, body, err := c.do("POST", "/audiences", def); err != nil || code != 201 {
			return fmt.Errorf("create %s: %d %s %v", key, code, body, err)
		}
		for {
			code, body, err := c.do("GET", "/audiences/"+key, "")
			if err != nil || code != 200 {
				return fmt.Errorf("read %s: %d %s %v", key, code, body, err)
			}
			var a struct {
				Status      string `json:"status"`
				MemberCount int64  `json:"memberCount"`
			}
			_ = json.Unmarshal(body, &a)
			if a.Status == "ready" {
				d := time.Since(start)
				builds = append(builds, d)
				keys = append(keys, key)
				fmt.Printf("- build of `%s`: %s, %d members\n", key, d.Round(10*time.Millisecond), a.MemberCount)
				break
			}
			if time.Since(start) > 20*time.Minute {
				return fmt.Errorf("build of %s did not end in 20 minutes", key)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var previews []time.Duration
	for i := range o.previews {
		def := fmt.Sprintf(`{"key":"preview_%d","name":"P","condition":{"all":[{"performed":{"event":"Order Completed","count":{"op":"gte","value":%d},"within":"30d"}},{"trait":"plan","op":"eq","value":"pro"}]}}`, i, 1+i%3)
		start := time.Now()
		code, body, err := c.do("POST", "/audiences/preview", def)
		if err != nil || code != 200 {
			return fmt.Errorf("preview: %d %s %v", code, body, err)
		}
		previews = append(previews, time.Since(start))
		if i == 0 {
			var p struct {
				Count int64 `json:"count"`
			}
			_ = json.Unmarshal(body, &p)
			fmt.Printf("- preview count: %d\n", p.Count)
		}
	}
	// Leaves no audience has built yet: a shorter window over the events a
	// built leaf counts (read from its states), and events no audience
	// counts (counted from the stored events).
	timePreviews := func(event string) ([]time.Duration, error) {
		var out []time.Duration
		for i := range 2 {
			def := fmt.Sprintf(`{"key":"fresh_%d","name":"F","condition":{"all":[{"performed":{"event":%q,"within":"%dd"}},{"trait":"plan","op":"eq","value":"pro"}]}}`, i, event, 14+i)
			start := time.Now()
			code, body, err := c.do("POST", "/audiences/preview", def)
			if err != nil || code != 200 {
				return nil, fmt.Errorf("preview: %d %s %v", code, body, err)
			}
			out = append(out, time.Since(start))
		}
		return out, nil
	}
	fresh, err := timePreviews("Order Completed")
	if err != nil {
		return err
	}
	cold, err := timePreviews("Event 3")
	if err != nil {
		return err
	}
	var pages []time.Duration
	if len(keys) > 0 {
		cursor := ""
		for range o.pages {
			path := "/audiences/" + keys[0] + "/members?limit=100"
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			start := time.Now()
			code, body, err := c.do("GET", path, "")
			if err != nil || code != 200 {
				return fmt.Errorf("members: %d %s %v", code, body, err)
			}
			pages = append(pages, time.Since(start))
			var m struct {
				Next *string `json:"next"`
			}
			_ = json.Unmarshal(body, &m)
			cursor = ""
			if m.Next != nil {
				cursor = *m.Next
			}
		}
	}
	fmt.Printf("\n| measure | samples | median | max |\n|---|---|---|---|\n")
	for _, r := range []struct {
		label string
		d     []time.Duration
	}{
		{"new `performed … within 30d` audience: POST to `status: ready`", builds},
		{"`POST /api/v1/audiences/preview` (its leaves built)", previews},
		{"`POST /api/v1/audiences/preview` (a new window over a built leaf's events)", fresh},
		{"`POST /api/v1/audiences/preview` (events no audience counts yet)", cold},
		{"`GET /api/v1/audiences/{key}/members?limit=100` (keyset pages)", pages},
	} {
		if len(r.d) == 0 {
			continue
		}
		slices.Sort(r.d)
		fmt.Printf("| %s | %d | %s | %s |\n", r.label, len(r.d), r.d[len(r.d)/2].Round(100*time.Microsecond), r.d[len(r.d)-1].Round(100*time.Microsecond))
	}
	return nil
}

// seed inserts the events server-side, event i of user (i*104729 mod
// users) with one anonymous id per user: 10% identify (plan pro for a
// third, else free), 70% track over 20 names of which "Order Completed" is
// one (about 3.5% of all events), 20% page, each drawn by a hash of i;
// timestamps spread over the last 60 days, received a second later.
func seed(ctx context.Context, db *sql.DB, ws uuid.UUID, o options) error {
	const q = `
INSERT INTO events (workspace_id, message_id, type, event, user_id, anonymous_id, received_at, timestamp, source, raw)
SELECT $1::uuid, 'msg-' || i, t.type, t.name, 'user-' || k, 'anon-' || k, r.at + interval '1 second', r.at, 'webhook',
  json_build_object('type', t.type, 'messageId', 'msg-' || i, 'userId', 'user-' || k, 'anonymousId', 'anon-' || k,
    'timestamp', to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'event', CASE WHEN t.type = 'track' THEN t.name END,
    'traits', CASE WHEN t.type = 'identify' THEN json_build_object('email', 'user-' || k || '@example.com', 'plan', CASE WHEN k % 3 = 0 THEN 'pro' ELSE 'free' END) END,
    'properties', json_build_object('total', i % 200, 'path', '/p/' || (i % 5000)))
FROM generate_series($2::bigint, $3::bigint) AS i,
  LATERAL (SELECT i * 104729 % $4::bigint AS k) u,
  LATERAL (SELECT abs(hashint8(i)) % 100 AS h, abs(hashint8(-i)) % 20 AS n, abs(hashint8(i + 7777777)) % 5184000 AS s) x,
  LATERAL (SELECT CASE WHEN x.h < 10 THEN 'identify' WHEN x.h < 80 THEN 'track' ELSE 'page' END AS type) t0,
  LATERAL (SELECT t0.type, CASE WHEN t0.type = 'track' AND x.n = 11 THEN 'Order Completed'
                                 WHEN t0.type = 'track' THEN 'Event ' || x.n ELSE '' END AS name) t,
  LATERAL (SELECT now() - x.s * interval '1 second' AS at) r`
	const chunk = 500_000
	for lo := 1; lo <= o.events; lo += chunk {
		hi := min(lo+chunk-1, o.events)
		t := time.Now()
		if _, err := db.ExecContext(ctx, q, ws.String(), lo, hi, o.users); err != nil {
			return fmt.Errorf("seed events %d..%d: %w", lo, hi, err)
		}
		slog.Info("seeded", "up_to", hi, "took", time.Since(t).Round(time.Millisecond))
	}
	_, err := db.ExecContext(ctx, "VACUUM ANALYZE events")
	return err
}

// seedProfiles writes, set-based, the profiles the profile follower makes
// of these events: each user's events carry the same userId and anonymous
// id, so one profile per user ("u:user-k") holding both identities, with
// the traits of its identify calls (plan and email are the same in all of
// a user's) and its counts; then both followers' cursors go to the feed's
// end, as after a rebuild. The audiences read exactly these tables.
func seedProfiles(ctx context.Context, db *sql.DB, ws uuid.UUID) error {
	stmts := []string{
		`INSERT INTO profiles (workspace_id, profile_key, user_id, first_seen, last_seen, event_count, doc)
		SELECT $1::uuid, 'u:' || user_id, user_id, min(timestamp), max(timestamp), count(*),
		  json_build_object('traits', CASE WHEN bool_or(type = 'identify') THEN json_build_object(
		      'plan', json_build_object('v', CASE WHEN substr(user_id, 6)::bigint % 3 = 0 THEN 'pro' ELSE 'free' END, 'ts', max(timestamp), 'm', 'seed'),
		      'email', json_build_object('v', user_id || '@example.com', 'ts', max(timestamp), 'm', 'seed')) ELSE '{}'::json END,
		    'groups', '{}'::json, 'counts', json_build_object('track', count(*) FILTER (WHERE type = 'track'),
		      'identify', count(*) FILTER (WHERE type = 'identify'), 'page', count(*) FILTER (WHERE type = 'page')),
		    'names', '{}'::json, 'first', min(timestamp), 'last', max(timestamp), 'count', count(*))::text
		FROM events WHERE workspace_id = $1::uuid GROUP BY user_id`,
		`INSERT INTO profile_identities (workspace_id, kind, value, profile_key, via, seen)
		SELECT $1::uuid, 'user', user_id, 'u:' || user_id, 'own', TRUE FROM profiles WHERE workspace_id = $1::uuid`,
		`INSERT INTO profile_identities (workspace_id, kind, value, profile_key, owner_user, via, via_ts, via_message, seen)
		SELECT $1::uuid, 'anon', 'anon-' || substr(user_id, 6), 'u:' || user_id, user_id, 'link', first_seen, 'seed', TRUE
		FROM profiles WHERE workspace_id = $1::uuid`,
		`INSERT INTO profile_trait_values (workspace_id, key, value, profile_key)
		SELECT $1::uuid, t.key, t.value, p.profile_key FROM profiles p,
		  LATERAL (SELECT key, (value->>'v') AS value FROM json_each(p.doc::json->'traits')) t WHERE p.workspace_id = $1::uuid`,
		`INSERT INTO profile_cursors (workspace_id, tx, id)
		SELECT $1::uuid, tx_id::text::bigint, id FROM events WHERE workspace_id = $1::uuid ORDER BY tx_id DESC, id DESC LIMIT 1`,
	}
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q, ws.String()); err != nil {
			return fmt.Errorf("seed profiles: %w", err)
		}
	}
	_, err := db.ExecContext(ctx, "VACUUM ANALYZE profiles, profile_identities, profile_trait_values")
	return err
}

// scratch is a migrated database of its own on the -admin-url server.
type scratch struct {
	name, url string
	st        *store.Store
	ws        store.Workspace
	db        *sql.DB
	close     func()
}

// openScratch creates a database named prefix and random hex (or opens
// reuse, an existing one), migrates it and opens it both through the store
// and as a plain connection pool. close drops a created database unless
// keep.
func openScratch(ctx context.Context, admin, prefix, reuse string, keep bool) (*scratch, error) {
	adm, err := sql.Open("pgx", admin)
	if err != nil {
		return nil, err
	}
	sc := &scratch{name: reuse}
	var undo []func()
	sc.close = func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	undo = append(undo, func() { adm.Close() })
	fail := func(err error) (*scratch, error) {
		sc.close()
		return nil, err
	}
	if sc.name == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		sc.name = prefix + hex.EncodeToString(b)
		if _, err := adm.ExecContext(ctx, "CREATE DATABASE "+sc.name); err != nil {
			return fail(fmt.Errorf("create database: %w", err))
		}
		if !keep {
			undo = append(undo, func() {
				_, _ = adm.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+sc.name+" WITH (FORCE)")
			})
		}
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + sc.name
	sc.url = u.String()
	if sc.st, err = store.Open(ctx, sc.url, "", store.Options{}); err != nil {
		return fail(err)
	}
	undo = append(undo, func() { sc.st.Close() })
	if _, err := sc.st.Migrate(ctx); err != nil {
		return fail(err)
	}
	if sc.ws, err = sc.st.EnsureDefaultWorkspace(ctx); err != nil {
		return fail(err)
	}
	if sc.db, err = sql.Open("pgx", sc.url); err != nil {
		return fail(err)
	}
	undo = append(undo, func() { sc.db.Close() })
	return sc, nil
}

// serve starts inlet on the scratch database and answers its URL and an
// API client with a write token; the caller stops it with stopServe.
func (sc *scratch) serve(ctx context.Context, bin string, timeout time.Duration) (string, *client, error) {
	srv, err := startServe(ctx, bin, sc.url)
	if err != nil {
		return "", nil, err
	}
	_, tok, err := sc.st.CreateAPIToken(ctx, sc.ws.ID, "bench", store.ScopeWrite)
	if err != nil {
		stopServe()
		return "", nil, err
	}
	return srv, &client{base: srv + "/api/v1", token: tok, http: &http.Client{Timeout: timeout}}, nil
}

type client struct {
	base, token string
	http        *http.Client
}

func (c *client) do(method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader([]byte(body)))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

type serve struct {
	cmd  *exec.Cmd
	done chan struct{}
}

var running *serve

func stopServe() {
	if running == nil {
		return
	}
	_ = running.cmd.Process.Signal(os.Interrupt)
	select {
	case <-running.done:
	case <-time.After(20 * time.Second):
		_ = running.cmd.Process.Kill()
	}
}

// startServe runs inlet serve on the database and returns its URL.
func startServe(ctx context.Context, bin, dbURL string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LISTEN_ADDR="+addr, "BASE_URL=http://"+addr, "LOG_LEVEL=warn", "PROFILES=on")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", err
	}
	running = &serve{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(running.done) }()
	base := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base, nil
			}
		}
	}
	return "", errors.New("inlet serve did not become ready")
}
