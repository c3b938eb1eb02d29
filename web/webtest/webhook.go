package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web"
)

// FixtureSecret is the shared secret the byte-exact Segment fixtures are signed with.
const FixtureSecret = "fixture-shared-secret-0123456789"

// Hook is a real Inlet HTTP server on a free port over a real store, with
// a sender for the public webhook.
type Hook struct {
	T   testing.TB
	St  *store.Store
	Srv *web.Server
	URL string
	WS  store.Workspace // the default workspace
}

// StartHook starts a server over st with the configuration env.
func StartHook(t testing.TB, st *store.Store, env map[string]string) *Hook {
	t.Helper()
	srv, _ := Open(t, Deps(t, Config(t, env), st, Logger(t)), st, ingest.Options{})
	return NewHook(t, st, srv)
}

// NewHook is the webhook sender for a server a test opened itself.
func NewHook(t testing.TB, st *store.Store, srv *web.Server) *Hook {
	t.Helper()
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatalf("default workspace: %v", err)
	}
	return &Hook{T: t, St: st, Srv: srv, URL: "http://" + srv.Addr(), WS: ws}
}

// SetSecret sets ws's shared secret and makes the server see it at once.
func (h *Hook) SetSecret(ws uuid.UUID, secret string) {
	h.T.Helper()
	if err := h.St.SetSecret(context.Background(), ws, secret, "test", time.Hour); err != nil {
		h.T.Fatalf("set secret: %v", err)
	}
	h.Srv.InvalidateWorkspace()
}

// AcceptFirstElement turns on, for ws, arrays signed over element 0 only
// (the "Accept batches signed over their first event only" setting).
func (h *Hook) AcceptFirstElement(ws uuid.UUID, on bool) {
	h.T.Helper()
	if err := h.St.SetFirstElementSignatures(context.Background(), ws, on); err != nil {
		h.T.Fatalf("set element-0 signatures: %v", err)
	}
	h.Srv.InvalidateWorkspace()
}

// HookReply is the webhook's answer.
type HookReply struct {
	Status     int
	RetryAfter string
	OK         bool   `json:"ok"`
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Suppressed int    `json:"suppressed"` // events of erased (suppressed) ids
	Erased     int    `json:"erased"`     // Segment deletion requests honoured
	Error      string `json:"error"`
}

// Post sends body to the webhook with the given signature header ("" = none)
// and header name/value pairs.
func (h *Hook) Post(query, sig string, body []byte, hdr ...string) HookReply {
	h.T.Helper()
	req, err := http.NewRequest(http.MethodPost, h.URL+"/api/public/webhooks/segment"+query, bytes.NewReader(body))
	if err != nil {
		h.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Segment.io/1.0")
	if sig != "" {
		req.Header.Set("X-Signature", sig)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return h.Do(req)
}

// Do sends req and reads the answer as the webhook's JSON.
func (h *Hook) Do(req *http.Request) HookReply {
	h.T.Helper()
	r, err := TryDo(req)
	if err != nil {
		h.T.Fatal(err)
	}
	return r
}

// TryDo is Do for a goroutine other than the test's: it returns the
// failure instead of failing the test (t.Fatal must not be called there).
func TryDo(req *http.Request) (HookReply, error) {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return HookReply{}, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r HookReply
	if ct := resp.Header.Get("Content-Type"); len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			return r, fmt.Errorf("answer is not JSON (%s, status %d): %q", ct, resp.StatusCode, raw)
		}
	}
	r.Status = resp.StatusCode
	r.RetryAfter = resp.Header.Get("Retry-After")
	return r, nil
}

// Count is the number of events stored in ws.
func (h *Hook) Count(ws uuid.UUID) int64 {
	h.T.Helper()
	n, err := h.St.CountEvents(context.Background(), ws)
	if err != nil {
		h.T.Fatalf("count: %v", err)
	}
	return n
}

// Get sends a GET with optional header pairs and returns the answer and its body.
func (h *Hook) Get(path string, hdr ...string) (*http.Response, []byte) {
	h.T.Helper()
	req, err := http.NewRequest(http.MethodGet, h.URL+path, nil)
	if err != nil {
		h.T.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.T.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.T.Fatalf("read GET %s: %v", path, err)
	}
	return resp, body
}

// Ops is a real server wired the way serve.go wires it for operations:
// metrics as delivery recorder and ingest observer, a logger the test reads.
type Ops struct {
	*Hook
	Metrics *metrics.Metrics
}

// StartOps starts an Ops server over st; its JSON log goes to logw (nil: discarded).
func StartOps(t testing.TB, st *store.Store, env map[string]string, logw io.Writer) *Ops {
	t.Helper()
	cfg := Config(t, env)
	if logw == nil {
		logw = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New("test-version")
	deps := Deps(t, cfg, st, log)
	deps.Metrics, deps.Attempts = m, status.Multi{deps.Status, m}
	srv, ing := Open(t, deps, st, ingest.Options{Observer: m})
	m.WatchQueue(ing.QueueDepth)
	m.WatchDB(string(st.Dialect()), st.PoolStats)
	return &Ops{Hook: NewHook(t, st, srv), Metrics: m}
}

// Fixture is one byte-exact body Segment sent, with its X-Signature.
type Fixture struct {
	File string `json:"file"`
	Sig  string `json:"x_signature"`
	Body []byte `json:"-"`
}

// Fixtures reads the byte-exact Segment bodies of internal/segment/testdata
// (found from this file, so any test package can read them).
func Fixtures(t testing.TB) map[string]Fixture {
	t.Helper()
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("webtest: cannot find its own source file")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "..", "internal", "segment", "testdata")
	raw, err := os.ReadFile(filepath.Join(dir, "signatures.json"))
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	var doc struct {
		Secret   string    `json:"shared_secret"`
		Fixtures []Fixture `json:"fixtures"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Secret != FixtureSecret {
		t.Fatalf("fixture secret changed: %q", doc.Secret)
	}
	out := map[string]Fixture{}
	for _, f := range doc.Fixtures {
		f.Body, err = os.ReadFile(filepath.Join(dir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		out[f.File] = f
	}
	return out
}

// Sign is the X-Signature Segment sends for body under secret.
func Sign(secret string, body []byte) string { return segment.Sign([]byte(secret), body) }
