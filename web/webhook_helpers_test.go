package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web"
)

const fixtureSecret = "fixture-shared-secret-0123456789"

// hookServer is a real Inlet HTTP server on a free port over a real store.
type hookServer struct {
	t   *testing.T
	st  *store.Store
	srv *web.Server
	url string
	ws  store.Workspace // the default workspace
}

func startHookServer(t *testing.T, st *store.Store, env map[string]string) *hookServer {
	t.Helper()
	srv, _ := openTestServer(t, serverDeps(t, mustConfig(t, env), st, testLogger(t)), st, ingest.Options{})
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatalf("default workspace: %v", err)
	}
	return &hookServer{t: t, st: st, srv: srv, url: "http://" + srv.Addr(), ws: ws}
}

func (h *hookServer) setSecret(ws uuid.UUID, secret string) {
	h.t.Helper()
	if err := h.st.SetSecret(context.Background(), ws, secret, "test", time.Hour); err != nil {
		h.t.Fatalf("set secret: %v", err)
	}
	h.srv.InvalidateWorkspace()
}

// acceptFirstElement turns on, for ws, arrays signed over element 0 only
// (the "Accept batches signed over their first event only" setting).
func (h *hookServer) acceptFirstElement(ws uuid.UUID, on bool) {
	h.t.Helper()
	if err := h.st.SetFirstElementSignatures(context.Background(), ws, on); err != nil {
		h.t.Fatalf("set element-0 signatures: %v", err)
	}
	h.srv.InvalidateWorkspace()
}

type hookReply struct {
	Status     int
	RetryAfter string
	OK         bool   `json:"ok"`
	Accepted   int    `json:"accepted"`
	Duplicates int    `json:"duplicates"`
	Suppressed int    `json:"suppressed"`
	Erased     int    `json:"erased"`
	Error      string `json:"error"`
}

// post sends body to the webhook with the given signature header ("" = none).
func (h *hookServer) post(query, sig string, body []byte, hdr ...string) hookReply {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.url+"/api/public/webhooks/segment"+query, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Segment.io/1.0")
	if sig != "" {
		req.Header.Set("X-Signature", sig)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return h.do(req)
}

func (h *hookServer) do(req *http.Request) hookReply {
	h.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r hookReply
	if ct := resp.Header.Get("Content-Type"); len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			h.t.Fatalf("answer is not JSON (%s, status %d): %q", ct, resp.StatusCode, raw)
		}
	}
	r.Status = resp.StatusCode
	r.RetryAfter = resp.Header.Get("Retry-After")
	return r
}

func (h *hookServer) count(ws uuid.UUID) int64 {
	h.t.Helper()
	n, err := h.st.CountEvents(context.Background(), ws)
	if err != nil {
		h.t.Fatalf("count: %v", err)
	}
	return n
}

type fixture struct {
	File string `json:"file"`
	Sig  string `json:"x_signature"`
	Body []byte `json:"-"`
}

// loadFixtures reads the byte-exact Segment bodies (the testdata copy, so the
// test does not depend on ../shared).
func loadFixtures(t *testing.T) map[string]fixture {
	t.Helper()
	dir := filepath.Join("..", "internal", "segment", "testdata")
	raw, err := os.ReadFile(filepath.Join(dir, "signatures.json"))
	if err != nil {
		t.Fatalf("fixtures: %v", err)
	}
	var doc struct {
		Secret   string    `json:"shared_secret"`
		Fixtures []fixture `json:"fixtures"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Secret != fixtureSecret {
		t.Fatalf("fixture secret changed: %q", doc.Secret)
	}
	out := map[string]fixture{}
	for _, f := range doc.Fixtures {
		f.Body, err = os.ReadFile(filepath.Join(dir, f.File))
		if err != nil {
			t.Fatal(err)
		}
		out[f.File] = f
	}
	return out
}

func sign(secret string, body []byte) string { return segment.Sign([]byte(secret), body) }
