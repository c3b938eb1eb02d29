package trackingapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// analyticsNodeDir holds package.json, the lock file and send.js.
var analyticsNodeDir = filepath.Join("..", "..", "test", "analytics-node")

// needAnalyticsNode skips (fails under CI=true) when node or the installed
// library is missing.
func needAnalyticsNode(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(analyticsNodeDir, "node_modules", "@segment", "analytics-node", "package.json"))
	}
	if err != nil {
		msg := "the analytics-node end-to-end test needs node and `npm ci --prefix test/analytics-node`: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip("skipping: " + msg)
	}
	return node
}

type nodeReport struct {
	OK     bool `json:"ok"`
	Errors []struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"errors"`
	Statuses []int `json:"statuses"`
}

// runSendJS runs send.js against base and returns its report and stderr.
func runSendJS(t *testing.T, node, base, key, prefix string) (nodeReport, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "send.js", base, key, prefix)
	cmd.Dir = analyticsNodeDir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run node: %v\n%s", err, stderr.String())
	}
	var r nodeReport
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &r); jerr != nil {
		t.Fatalf("send.js printed no report (%v): stdout %q stderr %q", err, stdout.String(), stderr.String())
	}
	if r.OK != (err == nil) {
		t.Fatalf("send.js exit status (%v) disagrees with its report %+v", err, r)
	}
	return r, stderr.String()
}

func TestAnalyticsNodeEndToEnd(t *testing.T) {
	t.Parallel()
	node := needAnalyticsNode(t)
	a := webtest.StartTracking(t, testdb.Open(t))
	kinds := []string{"identify", "track", "page", "screen", "group", "alias"}

	r, stderr := runSendJS(t, node, a.URL, a.Raw, "e2e")
	if !r.OK || len(r.Errors) != 0 {
		t.Fatalf("analytics-node reported failures: %+v\n%s", r, stderr)
	}
	for _, kind := range kinds {
		ev := a.Stored("e2e-" + kind)
		if ev.Type != kind || ev.Source != "http_api" || ev.SourceKey != a.Key.ID.String() {
			t.Errorf("%s: stored type=%q source=%q key=%q", kind, ev.Type, ev.Source, ev.SourceKey)
		}
		var raw struct {
			Context struct {
				Library struct{ Name string } `json:"library"`
			} `json:"context"`
			WriteKey *string `json:"writeKey"`
		}
		if err := json.Unmarshal(ev.Raw, &raw); err != nil {
			t.Fatalf("%s: raw: %v", kind, err)
		}
		if raw.Context.Library.Name != "@segment/analytics-node" || raw.WriteKey != nil {
			t.Errorf("%s: raw as stored: %s", kind, ev.Raw)
		}
	}
	if ev := a.Stored("e2e-track"); !strings.Contains(string(ev.Raw), "ünïcödé ✓") || ev.Event != "Order Completed" {
		t.Errorf("track as stored: event %q raw %s", ev.Event, ev.Raw)
	}
	if n := a.Count(); n != int64(len(kinds)) {
		t.Fatalf("want %d events stored exactly once, have %d", len(kinds), n)
	}

	// The same messageIds again (an app replaying its queue) change nothing.
	if r, stderr := runSendJS(t, node, a.URL, a.Raw, "e2e"); !r.OK {
		t.Fatalf("replay: %+v\n%s", r, stderr)
	}
	if n := a.Count(); n != int64(len(kinds)) {
		t.Fatalf("replay stored duplicates: %d events", n)
	}

	// A wrong key: the library hears 401 and reports every event as failed.
	r, _ = runSendJS(t, node, a.URL, "not-a-write-key", "bad")
	if r.OK || len(r.Errors) != len(kinds) {
		t.Fatalf("wrong key: want %d failures reported, got %+v", len(kinds), r)
	}
	// Final: one request, no retry (a 4xx other than 408/429 is final to
	// analytics-node; the body is Segment-shaped for the libraries that read it).
	if len(r.Statuses) != 1 || r.Statuses[0] != 401 {
		t.Fatalf("wrong key: statuses %v, want one 401 and no retry", r.Statuses)
	}
	if n := a.Count(); n != int64(len(kinds)) {
		t.Fatalf("a refused key stored events: %d", n)
	}
}
