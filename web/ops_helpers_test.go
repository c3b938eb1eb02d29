package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
)

// opsServer is a real server wired the way serve.go wires it for operations:
// metrics as delivery recorder and ingest observer, a logger the test reads.
type opsServer struct {
	*hookServer
	metrics *metrics.Metrics
}

func startOpsServer(t *testing.T, st *store.Store, env map[string]string, logw io.Writer) *opsServer {
	t.Helper()
	cfg := mustConfig(t, env)
	if logw == nil {
		logw = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m := metrics.New("test-version")
	deps := serverDeps(t, cfg, st, log)
	deps.Metrics, deps.Attempts = m, status.Multi{deps.Status, m}
	srv, ing := openTestServer(t, deps, st, ingest.Options{Observer: m})
	m.WatchQueue(ing.QueueDepth)
	m.WatchDB(string(st.Dialect()), st.PoolStats)
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatalf("default workspace: %v", err)
	}
	return &opsServer{hookServer: &hookServer{t: t, st: st, srv: srv, url: "http://" + srv.Addr(), ws: ws}, metrics: m}
}

// get sends a GET with optional header pairs and returns the answer and its body.
func (o *opsServer) get(path string, hdr ...string) (*http.Response, []byte) {
	o.t.Helper()
	req, err := http.NewRequest(http.MethodGet, o.url+path, nil)
	if err != nil {
		o.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		o.t.Fatalf("read GET %s: %v", path, err)
	}
	return resp, body
}
