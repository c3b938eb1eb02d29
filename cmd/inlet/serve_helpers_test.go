package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testutil"
)

// syncBuffer is the server's stdout: written by many goroutines, read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// servedInlet is `inlet serve` running in this process, as main runs it.
type servedInlet struct {
	url  string
	logs *syncBuffer
	stop func() (time.Duration, error) // cancels like SIGTERM; returns how long serve took to return, and its result
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// startServe runs serve with env (plus a free LISTEN_ADDR and JSON logs) and
// waits until it listens.
func startServe(t *testing.T, env map[string]string) *servedInlet {
	t.Helper()
	port := freePort(t)
	full := map[string]string{"LISTEN_ADDR": "127.0.0.1:" + port, "LOG_FORMAT": "json", "LOG_LEVEL": "debug"}
	for k, v := range env {
		full[k] = v
	}
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return full[k] }, strings.NewReader(""), logs, io.Discard)
	}()
	s := &servedInlet{url: "http://127.0.0.1:" + port, logs: logs}
	var once sync.Once
	var result error
	var took time.Duration
	s.stop = func() (time.Duration, error) {
		once.Do(func() {
			start := time.Now()
			cancel()
			select {
			case result = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("serve did not return within 30s of the stop signal")
			}
			took = time.Since(start)
		})
		return took, result
	}
	t.Cleanup(func() { s.stop() })

	// Start-up migrates, hashes the admin's password and warms caches: on a
	// machine running two suites at once that took over 20 s, so the wait
	// is long (it ends as soon as serve listens).
	var stopped error
	testutil.WaitWithin(t, 2*time.Minute, "serve to listen", func() bool {
		select {
		case stopped = <-done:
			return true
		default:
		}
		return strings.Contains(logs.String(), `"msg":"inlet listening"`)
	})
	if stopped != nil || !strings.Contains(logs.String(), `"msg":"inlet listening"`) {
		t.Fatalf("serve stopped at start: %v\n%s", stopped, logs)
	}
	return s
}

// logLines returns the JSON log lines whose msg contains substr.
func (s *servedInlet) logLines(t *testing.T, substr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if msg, _ := m["msg"].(string); strings.Contains(msg, substr) {
			out = append(out, m)
		}
	}
	return out
}

func (s *servedInlet) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(s.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postFixture posts a byte-exact Segment fixture with its recorded signature.
func (s *servedInlet) postFixture(t *testing.T, name string) int {
	t.Helper()
	body, sig := fixture(t, name)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/public/webhooks/segment", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", name, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const fixtureSecret = "fixture-shared-secret-0123456789"

func fixture(t *testing.T, name string) (body []byte, sig string) {
	t.Helper()
	dir := filepath.Join("..", "..", "internal", "segment", "testdata")
	raw, err := os.ReadFile(filepath.Join(dir, "signatures.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Fixtures []struct {
			File string `json:"file"`
			Sig  string `json:"x_signature"`
		} `json:"fixtures"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, f := range doc.Fixtures {
		if f.File == name {
			body, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			return body, f.Sig
		}
	}
	t.Fatalf("no fixture %s", name)
	return nil, ""
}
