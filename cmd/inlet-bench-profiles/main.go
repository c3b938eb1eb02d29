// Command inlet-bench-profiles measures the profile layer at scale
// (docs/benchmarks.md): it seeds a scratch PostgreSQL database with many
// events (server-side generate_series, the fast path), builds the profiles
// with `inlet profiles rebuild` (the rebuild rate), starts `inlet serve` on
// it and times, over HTTP, the profile page, GET /api/v1/users/{id}, the
// search by email, erasing a user with many events while another sender keeps
// ingesting, and an export of many events with the server's RSS sampled.
//
//	go build -o /tmp/inlet ./cmd/inlet
//	go run ./cmd/inlet-bench-profiles -inlet /tmp/inlet -events 5000000 -users 100000
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/inlet-dev/inlet/internal/store"
)

type options struct {
	admin, inlet       string
	events, users      int
	heavy, exportN     int
	samples            int
	keep               bool
	senders, batchSize int
}

func main() {
	var o options
	flag.StringVar(&o.admin, "admin-url", adminURL(), "PostgreSQL server to create the scratch database on")
	flag.StringVar(&o.inlet, "inlet", "", "path to a built inlet binary (go build -o /tmp/inlet ./cmd/inlet)")
	flag.IntVar(&o.events, "events", 5_000_000, "events to seed (besides the heavy user's)")
	flag.IntVar(&o.users, "users", 100_000, "distinct userIds (profiles)")
	flag.IntVar(&o.heavy, "heavy", 100_000, "events of the user that is erased")
	flag.IntVar(&o.exportN, "export", 1_000_000, "events in the exported range")
	flag.IntVar(&o.samples, "samples", 200, "requests per latency figure")
	flag.IntVar(&o.senders, "senders", 2, "concurrent senders ingesting during the erasure")
	flag.IntVar(&o.batchSize, "batch", 20, "events per /v1/batch request of those senders")
	flag.BoolVar(&o.keep, "keep", false, "keep the scratch database")
	flag.Parse()
	if o.inlet == "" {
		fmt.Fprintln(os.Stderr, "inlet-bench-profiles: -inlet is required (go build -o /tmp/inlet ./cmd/inlet)")
		os.Exit(2)
	}
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "inlet-bench-profiles:", err)
		os.Exit(1)
	}
}

func adminURL() string {
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

func run(ctx context.Context, o options) error {
	adm, err := sql.Open("pgx", o.admin)
	if err != nil {
		return err
	}
	defer adm.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "inlet_bench_profiles_" + hex.EncodeToString(b)
	if _, err := adm.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	u, _ := url.Parse(o.admin)
	u.Path = "/" + name
	dbURL := u.String()
	if o.keep {
		slog.Info("scratch database kept", "url", u.Redacted())
	} else {
		defer func() {
			_, _ = adm.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}()
	}
	st, err := store.Open(ctx, dbURL, "", store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	ws, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()

	fmt.Printf("## Profiles at scale (%s)\n\n", time.Now().UTC().Format("2006-01-02"))
	start := time.Now()
	if err := seed(ctx, db, ws.ID, o); err != nil {
		return err
	}
	var size string
	_ = db.QueryRowContext(ctx, "SELECT pg_size_pretty(pg_total_relation_size('events'))").Scan(&size)
	total := o.events + o.heavy + 1
	fmt.Printf("- Seeded %d events (%d users, one of them with %d events) in %s; events table with indexes %s.\n",
		total, o.users, o.heavy+1, time.Since(start).Round(time.Second), size)

	// Rebuild: every profile from the stored events, through the follower.
	// This shared test cluster runs with autovacuum off, so nothing would
	// analyze the profile tables while the rebuild fills them, and with the
	// statistics of empty tables PostgreSQL scans a whole table for each
	// lookup by id. ANALYZE every 20 s stands in for autovacuum.
	analyzeDone := make(chan struct{})
	go func() {
		t := time.NewTicker(20 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-analyzeDone:
				return
			case <-t.C:
				_, _ = db.ExecContext(ctx, "ANALYZE profiles, profile_identities, profile_links, profile_aliases, profile_trait_values, profile_groups")
			}
		}
	}()
	start = time.Now()
	rebuild := exec.CommandContext(ctx, o.inlet, "profiles", "rebuild", "--workspace", ws.ID.String())
	rebuild.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LOG_LEVEL=warn")
	out, err := rebuild.CombinedOutput()
	if err != nil {
		return fmt.Errorf("profiles rebuild: %v: %s", err, out)
	}
	took := time.Since(start)
	close(analyzeDone)
	var profiles int64
	_ = db.QueryRowContext(ctx, "SELECT count(*) FROM profiles").Scan(&profiles)
	fmt.Printf("- `inlet profiles rebuild`: %d events → %d profiles in %s: **%.0f events/s**.\n",
		total, profiles, took.Round(time.Second), float64(total)/took.Seconds())
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return err
	}

	srv, err := startServe(ctx, o.inlet, dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	_, readTok, err := st.CreateAPIToken(ctx, ws.ID, "bench read", store.ScopeRead)
	if err != nil {
		return err
	}
	_, writeTok, err := st.CreateAPIToken(ctx, ws.ID, "bench write", store.ScopeWrite)
	if err != nil {
		return err
	}
	_, writeKey, err := st.CreateWriteKey(ctx, ws.ID, "bench sender")
	if err != nil {
		return err
	}
	browser, err := srv.signIn()
	if err != nil {
		return err
	}
	api := &http.Client{Timeout: time.Minute}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}

	rnd := mrand.New(mrand.NewPCG(1, 2))
	pick := func() int { return rnd.IntN(o.users) }
	fmt.Printf("\nLatency over %d requests each, one at a time, random users (median / p95 / max):\n\n", o.samples)
	fmt.Println("| Request | median | p95 | max |")
	fmt.Println("|---|---|---|---|")
	measure := func(label string, c *http.Client, mk func() string, hdr func(*http.Request), want int) error {
		var d []time.Duration
		for range o.samples {
			t, code, err := timedGet(c, srv.url+mk(), hdr)
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
			if code != want {
				return fmt.Errorf("%s: status %d", label, code)
			}
			d = append(d, t)
		}
		md, p95, mx := stats(d)
		fmt.Printf("| %s | %s | %s | %s |\n", label, ms(md), ms(p95), ms(mx))
		return nil
	}
	steps := []struct {
		label string
		c     *http.Client
		path  func() string
		hdr   func(*http.Request)
	}{
		{"profile page `GET /dashboard/users/{id}`", browser, func() string { return "/dashboard/users/user-" + strconv.Itoa(pick()) }, nil},
		{"`GET /api/v1/users/{id}`", api, func() string { return "/api/v1/users/user-" + strconv.Itoa(pick()) }, bearer(readTok)},
		{"search by email `GET /api/v1/users?trait.email=`", api, func() string {
			return "/api/v1/users?trait.email=" + url.QueryEscape("user-"+strconv.Itoa(pick())+"@example.com")
		}, bearer(readTok)},
		{"search by email `GET /dashboard/users?q=`", browser, func() string {
			return "/dashboard/users?q=" + url.QueryEscape("user-"+strconv.Itoa(pick())+"@example.com")
		}, nil},
		{"`GET /dashboard/users` (newest first)", browser, func() string { return "/dashboard/users" }, nil},
	}
	for _, s := range steps {
		if err := measure(s.label, s.c, s.path, s.hdr, http.StatusOK); err != nil {
			return err
		}
	}
	if err := measure(fmt.Sprintf("page of the user with %d events", o.heavy+1), browser, func() string { return "/dashboard/users/user-heavy" }, nil, http.StatusOK); err != nil {
		return err
	}

	if err := eraseWhileIngesting(ctx, srv, api, writeTok, writeKey, o); err != nil {
		return err
	}
	return exportWithRSS(srv, api, readTok, o)
}

// seed inserts the events server-side. Event i belongs to user
// (i*104729 mod users), a permutation, so every user has events; each user
// has one anonymous id that the identify calls link. 10% identify (with an
// email trait), 75% track over 50 names, 10% page, 4% screen, 1% group over
// 1000 groups; one received_at per 4 events, 1 s apart.
func seed(ctx context.Context, db *sql.DB, ws uuid.UUID, o options) error {
	const q = `
INSERT INTO events (workspace_id, message_id, type, event, user_id, anonymous_id, group_id, received_at, timestamp, source, raw)
SELECT $1::uuid, 'msg-' || i, t.type,
  CASE WHEN t.type = 'track' THEN 'Event ' || (i % 50) ELSE '' END,
  'user-' || k, 'anon-' || k,
  CASE WHEN t.type = 'group' THEN 'g-' || (k % 1000) ELSE '' END,
  r.at, r.at - interval '1 second', 'webhook',
  json_build_object('type', t.type, 'messageId', 'msg-' || i, 'userId', 'user-' || k, 'anonymousId', 'anon-' || k,
    'timestamp', to_char(r.at - interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'event', CASE WHEN t.type = 'track' THEN 'Event ' || (i % 50) END,
    'groupId', CASE WHEN t.type = 'group' THEN 'g-' || (k % 1000) END,
    'traits', CASE WHEN t.type = 'identify' THEN json_build_object('email', 'user-' || k || '@example.com', 'plan', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END, 'logins', i)
                   WHEN t.type = 'group' THEN json_build_object('name', 'Group ' || (k % 1000)) END,
    'properties', json_build_object('path', '/products/' || (i % 5000), 'title', repeat('x', 80)),
    'context', json_build_object('library', json_build_object('name', 'analytics.js', 'version', '4.1.0')))
FROM generate_series($2::bigint, $3::bigint) AS i,
  LATERAL (SELECT i * 104729 % $4::bigint AS k) u,
  LATERAL (SELECT CASE WHEN i % 100 < 10 THEN 'identify' WHEN i % 100 < 85 THEN 'track' WHEN i % 100 < 95 THEN 'page'
                       WHEN i % 100 < 99 THEN 'screen' ELSE 'group' END AS type) t,
  LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + ((i - 1) / 4) * interval '1 second' AS at) r`
	const chunk = 500_000
	for lo := 1; lo <= o.events; lo += chunk {
		hi := min(lo+chunk-1, o.events)
		t := time.Now()
		if _, err := db.ExecContext(ctx, q, ws.String(), lo, hi, o.users); err != nil {
			return fmt.Errorf("seed events %d..%d: %w", lo, hi, err)
		}
		slog.Info("seeded", "up_to", hi, "took", time.Since(t).Round(time.Millisecond))
	}
	// The user erased later: one identify and many tracks.
	const heavy = `
INSERT INTO events (workspace_id, message_id, type, event, user_id, anonymous_id, received_at, timestamp, source, raw)
SELECT $1::uuid, 'heavy-' || i, CASE WHEN i = 0 THEN 'identify' ELSE 'track' END, CASE WHEN i = 0 THEN '' ELSE 'Heavy ' || (i % 20) END,
  'user-heavy', 'anon-heavy', r.at, r.at, 'webhook',
  json_build_object('type', CASE WHEN i = 0 THEN 'identify' ELSE 'track' END, 'messageId', 'heavy-' || i, 'userId', 'user-heavy',
    'anonymousId', 'anon-heavy', 'timestamp', to_char(r.at, 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'traits', CASE WHEN i = 0 THEN json_build_object('email', 'heavy@example.com') END, 'properties', json_build_object('n', i))
FROM generate_series(0::bigint, $2::bigint) AS i,
  LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + i * interval '3 seconds' AS at) r`
	if _, err := db.ExecContext(ctx, heavy, ws.String(), o.heavy); err != nil {
		return fmt.Errorf("seed the heavy user: %w", err)
	}
	_, err := db.ExecContext(ctx, "VACUUM ANALYZE events")
	return err
}

type server struct {
	cmd  *exec.Cmd
	url  string
	pid  int
	done chan struct{}
}

const benchAdmin, benchPassword = "bench@example.com", "bench password long enough"

func startServe(ctx context.Context, bin, dbURL string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "LISTEN_ADDR="+addr, "BASE_URL=http://"+addr,
		"ADMIN_EMAIL="+benchAdmin, "ADMIN_PASSWORD="+benchPassword, "LOG_LEVEL=warn", "PROFILES=on")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://" + addr, pid: cmd.Process.Pid, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(s.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, errors.New("inlet serve did not become ready")
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn goes through the sign-in form and returns a client with the session.
func (s *server) signIn() (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	res, err := c.Get(s.url + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return nil, errors.New("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(s.url+"/login", url.Values{"csrf_token": {string(m[1])}, "email": {benchAdmin}, "password": {benchPassword}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.Request.URL.Path != "/dashboard/settings" {
		return nil, fmt.Errorf("sign in ended on %s (%d)", res.Request.URL, res.StatusCode)
	}
	return c, nil
}

func timedGet(c *http.Client, u string, hdr func(*http.Request)) (time.Duration, int, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if hdr != nil {
		hdr(req)
	}
	t := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return time.Since(t), res.StatusCode, nil
}

func stats(d []time.Duration) (median, p95, max time.Duration) {
	slices.Sort(d)
	if len(d) == 0 {
		return
	}
	return d[len(d)/2], d[min(len(d)-1, len(d)*95/100)], d[len(d)-1]
}

func p99(d []time.Duration) time.Duration {
	slices.Sort(d)
	if len(d) == 0 {
		return 0
	}
	return d[min(len(d)-1, len(d)*99/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// eraseWhileIngesting runs senders posting batches with a write key for a
// baseline period, then erases the heavy user through the API while they go
// on, and compares the senders' acknowledged rate and p99 latency.
func eraseWhileIngesting(ctx context.Context, srv *server, api *http.Client, writeTok, writeKey string, o options) error {
	type sample struct {
		at   time.Time
		took time.Duration
		ok   bool
	}
	var mu sync.Mutex
	var samples []sample
	stop := make(chan struct{})
	var wg sync.WaitGroup
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(writeKey+":"))
	hc := &http.Client{Timeout: 30 * time.Second}
	for s := range o.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var b strings.Builder
				b.WriteString(`{"batch":[`)
				for i := range o.batchSize {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, `{"type":"track","event":"Live","userId":"live-%d","messageId":"live-%d-%d-%d","properties":{"n":%d}}`, i, s, n, i, n)
				}
				b.WriteString(`]}`)
				req, _ := http.NewRequest(http.MethodPost, srv.url+"/v1/batch", strings.NewReader(b.String()))
				req.Header.Set("Authorization", auth)
				req.Header.Set("Content-Type", "application/json")
				t := time.Now()
				res, err := hc.Do(req)
				ok := err == nil && res.StatusCode == 200
				if res != nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				mu.Lock()
				samples = append(samples, sample{at: t, took: time.Since(t), ok: ok})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(10 * time.Second)
	eraseStart := time.Now()
	req, _ := http.NewRequest(http.MethodDelete, srv.url+"/api/v1/users/user-heavy", nil)
	req.Header.Set("Authorization", "Bearer "+writeTok)
	res, err := api.Do(req)
	if err != nil {
		close(stop)
		wg.Wait()
		return fmt.Errorf("erase: %w", err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	eraseEnd := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	if res.StatusCode != 200 {
		return fmt.Errorf("erase: %d %s", res.StatusCode, body)
	}
	window := func(from, to time.Time) (rate float64, p time.Duration, failed int) {
		var d []time.Duration
		for _, s := range samples {
			if s.at.Before(from) || !s.at.Before(to) {
				continue
			}
			if !s.ok {
				failed++
				continue
			}
			d = append(d, s.took)
		}
		return float64(len(d)*o.batchSize) / to.Sub(from).Seconds(), p99(d), failed
	}
	bRate, bP99, bFail := window(eraseStart.Add(-8*time.Second), eraseStart)
	eRate, eP99, eFail := window(eraseStart, eraseEnd)
	fmt.Printf("\nErasing `user-heavy` (%d events) with `DELETE /api/v1/users/user-heavy` took **%s** (%s) while %d senders posted %d-event batches to /v1/batch:\n\n",
		o.heavy+1, eraseEnd.Sub(eraseStart).Round(10*time.Millisecond), strings.TrimSpace(string(body)), o.senders, o.batchSize)
	fmt.Println("| Sender window | acknowledged events/s | p99 per request | failed requests |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| 8 s before the erasure | %.0f | %s | %d |\n", bRate, ms(bP99), bFail)
	fmt.Printf("| during the erasure | %.0f | %s | %d |\n", eRate, ms(eP99), eFail)
	return nil
}

// exportWithRSS streams an export of the first exportN events (by time
// received) and samples the server's resident memory every 100 ms.
func exportWithRSS(srv *server, api *http.Client, tok string, o options) error {
	from := "2026-01-01T00:00:00Z"
	to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(o.exportN/4) * time.Second).Format(time.RFC3339)
	before, err := rss(srv.pid)
	if err != nil {
		return err
	}
	var rssSamples []int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v, err := rss(srv.pid); err == nil {
					rssSamples = append(rssSamples, v)
				}
			}
		}
	}()
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/v1/events/export?from="+from+"&to="+to, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	c := &http.Client{Timeout: 30 * time.Minute}
	res, err := c.Do(req)
	if err != nil {
		close(stop)
		wg.Wait()
		return err
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var lines, bytes int64
	for sc.Scan() {
		lines++
		bytes += int64(len(sc.Bytes())) + 1
	}
	res.Body.Close()
	took := time.Since(start)
	close(stop)
	wg.Wait()
	if err := sc.Err(); err != nil {
		return fmt.Errorf("export read: %w", err)
	}
	slices.Sort(rssSamples)
	if len(rssSamples) == 0 {
		return errors.New("no RSS samples")
	}
	q := func(f float64) string {
		return fmt.Sprintf("%.0f MB", float64(rssSamples[min(len(rssSamples)-1, int(f*float64(len(rssSamples))))])/(1<<20))
	}
	fmt.Printf("\nExport `GET /api/v1/events/export?from=%s&to=%s`: %d events (%.0f MB of NDJSON) in %s = %.0f events/s.\n",
		from, to, lines, float64(bytes)/(1<<20), took.Round(100*time.Millisecond), float64(lines)/took.Seconds())
	fmt.Printf("Server RSS: %.0f MB before; during the export (%d samples, every 100 ms) min %s, median %s, p95 %s, max %s.\n",
		float64(before)/(1<<20), len(rssSamples), q(0), q(0.5), q(0.95), q(0.9999))
	if lines != int64(o.exportN) {
		return fmt.Errorf("export: %d lines, want %d", lines, o.exportN)
	}
	return nil
}

// rss reads a process's resident set size in bytes from /proc.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS")
}
