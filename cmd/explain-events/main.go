// Command explain-events measures the dashboard's event queries on a large
// PostgreSQL table: it creates a scratch database, loads synthetic events
// with INSERT … SELECT generate_series, then prints EXPLAIN (ANALYZE,
// BUFFERS) of the exact queries ListEvents sends, as Markdown for
// docs/events-performance.md. The scratch database is dropped at the end.
//
//	go run ./cmd/explain-events -rows 1000000 > /tmp/plans.md
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"github.com/inlet-dev/inlet/internal/redact"
	"io"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/inlet-dev/inlet/internal/store"
)

func main() {
	admin := flag.String("admin-url", adminURL(), "PostgreSQL server to create the scratch database on")
	rows := flag.Int("rows", 1_000_000, "events in the measured workspace")
	keep := flag.Bool("keep", false, "keep the scratch database (its URL is printed)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *admin, *rows, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "explain-events:", err)
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

func run(ctx context.Context, out io.Writer, admin string, n int, keep bool) error {
	adm, err := sql.Open("pgx", admin)
	if err != nil {
		return fmt.Errorf("open %s: %w", admin, err)
	}
	defer adm.Close()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "inlet_explain_" + hex.EncodeToString(b)
	if _, err := adm.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	if keep {
		slog.Info("scratch database kept", "url", redact.URL(u.String()))
	} else {
		defer func() {
			if _, err := adm.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
				slog.Error("drop scratch database", "name", name, "err", err)
			}
		}()
	}
	st, err := store.Open(ctx, u.String(), "", store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	def, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		return err
	}
	other, err := st.CreateWorkspace(ctx, "Other")
	if err != nil {
		return err
	}
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := load(ctx, db, def.ID, n); err != nil {
		return err
	}
	if err := load(ctx, db, other.ID, n/10); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "VACUUM ANALYZE events"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	var size string
	_ = db.QueryRowContext(ctx, "SELECT pg_size_pretty(pg_total_relation_size('events'))").Scan(&size)
	slog.Info("loaded", "rows", n+n/10, "took", time.Since(start).Round(time.Second), "size", size)
	fmt.Fprintf(out, "Data: %d events in the measured workspace, %d in another; events table with indexes: %s.\n\n", n, n/10, size)
	return explainAll(ctx, out, st, db, def.ID, n)
}

// load inserts n events into ws. The shape mimics a real source: 4 events
// per received_at (a Segment batch), one every 10 s over ~29 days per 1M;
// 70% track, 100 000 users plus one "power user" with 5% of all events;
// "Page Scrolled" is common, "Order Completed" rare (0.5%).
func load(ctx context.Context, db *sql.DB, ws uuid.UUID, n int) error {
	const q = `
INSERT INTO events (workspace_id, message_id, type, event, user_id, anonymous_id, received_at, timestamp, source, raw)
SELECT $1::uuid, 'msg-' || i,
  t.type,
  CASE WHEN t.type <> 'track' THEN ''
       WHEN i % 200 = 3 THEN 'Order Completed'
       WHEN i % 10 < 3 THEN 'Page Scrolled'
       ELSE 'Event ' || (i * 7919 % 200) END,
  CASE WHEN i % 20 = 0 THEN 'user-power' WHEN i % 5 = 1 THEN '' ELSE 'user-' || (i * 104729 % 100000) END,
  'anon-' || (i * 31 % 300000),
  r.at, r.at - interval '2 seconds', 'webhook',
  json_build_object('type', t.type, 'messageId', 'msg-' || i, 'userId', 'user-' || (i * 104729 % 100000),
    'properties', json_build_object('path', '/products/' || (i % 5000), 'title', repeat('x', 120), 'n', i),
    'context', json_build_object('library', json_build_object('name', 'analytics.js', 'version', '4.1.0'),
      'userAgent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'))
FROM generate_series(1::bigint, $2::bigint) AS i,
  LATERAL (SELECT CASE WHEN i % 100 < 70 THEN 'track' WHEN i % 100 < 85 THEN 'identify' WHEN i % 100 < 95 THEN 'page'
                       WHEN i % 100 < 98 THEN 'screen' WHEN i % 100 < 99 THEN 'group' ELSE 'alias' END AS type) t,
  LATERAL (SELECT timestamptz '2026-01-01 00:00:00+00' + ((i - 1) / 4) * interval '10 seconds' AS at) r`
	if _, err := db.ExecContext(ctx, q, ws.String(), n); err != nil {
		return fmt.Errorf("load %d events: %w", n, err)
	}
	return nil
}

type probe struct {
	name string
	f    store.EventFilter
}

func explainAll(ctx context.Context, out io.Writer, st *store.Store, db *sql.DB, ws uuid.UUID, n int) error {
	deep, err := cursorAt(ctx, db, ws, "", n*9/10)
	if err != nil {
		return err
	}
	deepIdentify, err := cursorAt(ctx, db, ws, "identify", min(100_000, n/10))
	if err != nil {
		return err
	}
	day := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	probes := []probe{
		{"First page, no filter", store.EventFilter{}},
		{"Deep page via cursor (90% of the rows back)", store.EventFilter{Before: &deep}},
		{"Newer page via cursor (← Newer from the deep page)", store.EventFilter{After: &deep}},
		{"Type = identify (15%)", store.EventFilter{Type: "identify"}},
		{"Type = identify, deep page 100 000 identify rows back", store.EventFilter{Type: "identify", Before: &deepIdentify}},
		{"Type = alias (1%)", store.EventFilter{Type: "alias"}},
		{"Event = Order Completed (0.5%)", store.EventFilter{Event: "Order Completed"}},
		{"Event = Page Scrolled (21%)", store.EventFilter{Event: "Page Scrolled"}},
		{"Event = order completed (typed in lower case)", store.EventFilter{Event: "order completed"}},
		{"User = a typical user (user_id or anonymous_id)", store.EventFilter{User: "user-4242"}},
		{"User = the power user (50 000 events)", store.EventFilter{User: "user-power"}},
		{"User = an anonymous id", store.EventFilter{User: "anon-1234"}},
		{"User = nobody (no match)", store.EventFilter{User: "no-such-user"}},
		{"User = USER-4242 (typed in another case)", store.EventFilter{User: "USER-4242"}},
		{"Time range: one day in the middle", store.EventFilter{From: day, To: day.Add(24 * time.Hour)}},
		{"Time range: one minute with nothing before it", store.EventFilter{From: day, To: day.Add(time.Minute)}},
		{"Type = track + one day", store.EventFilter{Type: "track", From: day, To: day.Add(24 * time.Hour)}},
		{"User = power user + type = identify (10 000 of its 50 000)", store.EventFilter{User: "user-power", Type: "identify"}},
		{"Worst case: power user + type = page (it has none: all 50 000 read)", store.EventFilter{User: "user-power", Type: "page"}},
		{"Worst case: Order Completed + a typical user (no match)", store.EventFilter{Event: "Order Completed", User: "user-4242"}},
	}
	fmt.Fprintf(out, "| query | plan (main node) | execution | shared buffers hit/read |\n|---|---|---|---|\n")
	var details strings.Builder
	for _, p := range probes {
		p.f.WorkspaceID = ws
		var plan string
		for range 3 { // the last of three runs: a warm cache, as a dashboard in use has
			if plan, err = st.ExplainListEvents(ctx, p.f); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", p.name, mainNode(plan), grab(plan, `Execution Time: ([\d.]+ ms)`), buffers(plan))
		q, _ := st.ListEventsSQL(p.f)
		fmt.Fprintf(&details, "### %s\n\n```sql\n%s\n```\n\n```\n%s\n```\n\n", p.name, q, plan)
	}
	// The approximate count above the list: exact up to EventCountCap, then
	// "10,000+"; it must cost about what a page costs whatever matches.
	for _, p := range []probe{
		{"Count, no filter (1M match: stops at 10 001)", store.EventFilter{}},
		{"Count, Event = page scrolled (21%)", store.EventFilter{Event: "page scrolled"}},
		{"Count, User = the power user (50 000)", store.EventFilter{User: "user-power"}},
		{"Count, Type = alias + one day", store.EventFilter{Type: "alias", From: day, To: day.Add(24 * time.Hour)}},
		{"Count, Event = Order Completed + a typical user (no match)", store.EventFilter{Event: "Order Completed", User: "user-4242"}},
	} {
		p.f.WorkspaceID = ws
		var plan string
		for range 3 {
			if plan, err = st.ExplainCountMatchingEvents(ctx, p.f, store.EventCountCap); err != nil {
				return fmt.Errorf("%s: %w", p.name, err)
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", p.name, mainNode(plan), grab(plan, `Execution Time: ([\d.]+ ms)`), buffers(plan))
		fmt.Fprintf(&details, "### %s\n\n```\n%s\n```\n\n", p.name, plan)
	}
	// The connection status's start-up query (store.LoadDeliveries): the
	// newest event per workspace must not scan the table either.
	const last = "SELECT w.id, (SELECT max(e.received_at) FROM events e WHERE e.workspace_id = w.id) FROM workspaces w"
	plan, err := explainRaw(ctx, db, last)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "| Status start-up: newest event per workspace | %s | %s | %s |\n", mainNode(plan),
		grab(plan, `Execution Time: ([\d.]+ ms)`), buffers(plan))
	fmt.Fprintf(&details, "### Status start-up: newest event per workspace\n\n```sql\n%s\n```\n\n```\n%s\n```\n\n", last, plan)
	fmt.Fprintf(out, "\n%s", details.String())
	return nil
}

func explainRaw(ctx context.Context, db *sql.DB, q string) (string, error) {
	rows, err := db.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+q)
	if err != nil {
		return "", fmt.Errorf("explain %q: %w", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return "", err
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// cursorAt finds the position n rows back, to start a deep page from it
// (OFFSET here only finds the cursor; pages never use it).
func cursorAt(ctx context.Context, db *sql.DB, ws uuid.UUID, typ string, n int) (store.EventCursor, error) {
	var c store.EventCursor
	err := db.QueryRowContext(ctx, `SELECT received_at, id FROM events WHERE workspace_id = $1 AND ($2 = '' OR type = $2)
		ORDER BY received_at DESC, id DESC OFFSET $3 LIMIT 1`, ws.String(), typ, n).Scan(&c.ReceivedAt, &c.ID)
	if err != nil {
		return c, fmt.Errorf("cursor %d rows back: %w", n, err)
	}
	return c, nil
}

var nodeRE = regexp.MustCompile(`(Index Scan|Index Only Scan|Bitmap Heap Scan|Seq Scan|Nested Loop|Merge Append|HashAggregate|Unique|Sort)[^(]*`)

// mainNode names the scans under the Limit, e.g. "Index Scan using events_ws_received".
func mainNode(plan string) string {
	var seen []string
	for _, line := range strings.Split(plan, "\n") {
		if m := nodeRE.FindString(line); m != "" && strings.Contains(m, "Scan") {
			m = strings.TrimSpace(strings.Replace(m, " on events", "", 1))
			if len(seen) == 0 || seen[len(seen)-1] != m {
				seen = append(seen, m)
			}
		}
	}
	return strings.Join(seen, " + ")
}

func grab(plan, re string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(plan); m != nil {
		return m[1]
	}
	return "?"
}

func buffers(plan string) string {
	first := strings.SplitN(plan, "\n", 3)
	for _, l := range first {
		if strings.Contains(l, "Buffers:") {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "Buffers:"))
		}
	}
	return grab(plan, `Buffers: ([^\n]+)`)
}
