package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/inlet-dev/inlet/internal/segment"
)

const edgeSecret = "bench-edge-shared-secret"

// runEdge measures exits at a window's edge (-edge N): N users each post
// one Ping, all stamped the same instant 30 s ago, into an audience of
// "pinged within 1m", so that all N leave together 30 s later with no new
// event. It prints when the first and the last left after the edge, twice:
// the second round follows an ANALYZE of the emptied tables, as
// autovacuum would leave them after the first round's timers are gone.
// Nothing else analyzes the tables (the shared test cluster runs with
// autovacuum off), so the statistics are as stale as a new install's.
func runEdge(ctx context.Context, o options) error {
	sc, err := openScratch(ctx, o.admin, "inlet_edge_", "", false)
	if err != nil {
		return err
	}
	defer sc.close()
	st, ws, db := sc.st, sc.ws, sc.db
	if err := st.SetSecret(ctx, ws.ID, edgeSecret, "bench", 0); err != nil {
		return err
	}
	srv, c, err := sc.serve(ctx, o.inlet, time.Minute)
	if err != nil {
		return err
	}
	defer stopServe()
	if code, body, err := c.do("POST", "/audiences", `{"key":"pinged","name":"Pinged in the last minute","condition":{"performed":{"event":"Ping","within":"1m"}}}`); err != nil || code != 201 {
		return fmt.Errorf("create the audience: %d %s %v", code, body, err)
	}
	fmt.Printf("## %d users leaving together at a window's edge (%s)\n\n", o.edge, time.Now().UTC().Format("2006-01-02"))
	for round := 1; round <= 2; round++ {
		if round == 2 {
			if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
				return err
			}
		}
		first, last, err := edgeRound(ctx, c, srv, o.edge, round)
		if err != nil {
			return err
		}
		fmt.Printf("- round %d: first exit %s after the edge, all %d out %s after it\n", round,
			first.Round(10*time.Millisecond), o.edge, last.Round(10*time.Millisecond))
	}
	return nil
}

// edgeRound posts n pings stamped 30 s ago and answers how long after
// their window's edge the first and the last member left.
func edgeRound(ctx context.Context, c *client, srv string, n, round int) (first, last time.Duration, err error) {
	stamp := time.Now().Add(-30 * time.Second).UTC().Truncate(time.Millisecond)
	edge := stamp.Add(time.Minute)
	hook := &http.Client{Timeout: time.Minute}
	for i := 0; i < n; i += 100 {
		var batch []map[string]any
		for j := i; j < min(n, i+100); j++ {
			u := fmt.Sprintf("r%d-user-%d", round, j)
			batch = append(batch, map[string]any{"type": "track", "event": "Ping", "userId": u, "messageId": "ping-" + u, "timestamp": stamp.Format(time.RFC3339Nano)})
		}
		body, _ := json.Marshal(batch)
		req, _ := http.NewRequestWithContext(ctx, "POST", srv+"/api/public/webhooks/segment", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", segment.Sign([]byte(edgeSecret), body))
		res, err := hook.Do(req)
		if err != nil {
			return 0, 0, err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return 0, 0, fmt.Errorf("webhook: %d", res.StatusCode)
		}
	}
	count := func() (int64, error) {
		code, body, err := c.do("GET", "/audiences/pinged", "")
		if err != nil || code != 200 {
			return 0, fmt.Errorf("read the audience: %d %s %v", code, body, err)
		}
		var a struct {
			MemberCount int64 `json:"memberCount"`
		}
		return a.MemberCount, json.Unmarshal(body, &a)
	}
	for {
		m, err := count()
		if err != nil {
			return 0, 0, err
		}
		if m == int64(n) {
			break
		}
		if time.Now().After(edge) {
			return 0, 0, fmt.Errorf("only %d of %d entered before their window's edge", m, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	deadline := edge.Add(5 * time.Minute)
	for {
		m, err := count()
		now := time.Now()
		if err != nil {
			return 0, 0, err
		}
		if m < int64(n) && first == 0 {
			first = now.Sub(edge)
		}
		if m == 0 {
			return first, now.Sub(edge), nil
		}
		if now.After(deadline) {
			return first, 0, fmt.Errorf("%d of %d still members 5 minutes after their window's edge", m, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
