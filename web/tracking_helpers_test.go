package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/web"
)

// apiServer is a real Inlet server for HTTP Tracking API tests, with a
// write key of the default workspace and every attempt recorded.
type apiServer struct {
	t   *testing.T
	st  *store.Store
	srv *web.Server
	ing *ingest.Ingester
	url string
	ws  store.Workspace
	key store.WriteKey
	raw string // the key's text
	rec *apiAttempts
}

type apiAttempts struct {
	mu   sync.Mutex
	list []status.Attempt
}

func (l *apiAttempts) Record(a status.Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, a)
}

func (l *apiAttempts) all() []status.Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]status.Attempt(nil), l.list...)
}

func startAPIServer(t *testing.T, st *store.Store) *apiServer {
	t.Helper()
	return startAPIServerWith(t, st, st, ingest.Options{Timeout: testdb.Patience(2 * time.Second)})
}

// startAPIServerWith lets a test size the ingester and put something in
// front of the real store (to hold commits back, say).
func startAPIServerWith(t *testing.T, st *store.Store, ins ingest.Inserter, opts ingest.Options) *apiServer {
	t.Helper()
	rec := &apiAttempts{}
	deps := serverDeps(t, mustConfig(t, nil), st, testLogger(t))
	deps.Attempts = rec
	srv, ing := openTestServer(t, deps, ins, opts)
	ctx := context.Background()
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatalf("default workspace: %v", err)
	}
	k, raw, err := st.CreateWriteKey(ctx, ws.ID, "tests")
	if err != nil {
		t.Fatalf("create write key: %v", err)
	}
	return &apiServer{t: t, st: st, srv: srv, ing: ing, url: "http://" + srv.Addr(), ws: ws, key: k, raw: raw, rec: rec}
}

type apiReply struct {
	Status  int
	Header  http.Header
	Success bool   `json:"success"`
	Error   string `json:"error"`
}

// post sends body to path; hdr are header name/value pairs. "Basic" as a
// name is shorthand for HTTP Basic with that value as the user name.
func (a *apiServer) post(path string, body []byte, hdr ...string) apiReply {
	a.t.Helper()
	req, err := http.NewRequest(http.MethodPost, a.url+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Basic" {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(hdr[i+1]+":")))
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return a.do(req)
}

func (a *apiServer) do(req *http.Request) apiReply {
	a.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiReply{Status: resp.StatusCode, Header: resp.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			a.t.Fatalf("answer is not JSON (status %d): %q", resp.StatusCode, raw)
		}
	}
	return r
}

// auth is the Basic header pair for the server's key.
func (a *apiServer) auth() []string { return []string{"Basic", a.raw} }

func (a *apiServer) count() int64 {
	a.t.Helper()
	n, err := a.st.CountEvents(context.Background(), a.ws.ID)
	if err != nil {
		a.t.Fatalf("count: %v", err)
	}
	return n
}

func (a *apiServer) stored(messageID string) store.StoredEvent {
	a.t.Helper()
	ev, err := a.st.EventByMessageID(context.Background(), a.ws.ID, messageID)
	if err != nil {
		a.t.Fatalf("event %q not stored: %v", messageID, err)
	}
	return ev
}

func mustAPIOK(t *testing.T, what string, r apiReply) {
	t.Helper()
	if r.Status != http.StatusOK || !r.Success {
		t.Fatalf("%s: want 200 {success: true}, got %d %q", what, r.Status, r.Error)
	}
}

func mustAPIRefuse(t *testing.T, what string, r apiReply, status int) {
	t.Helper()
	if r.Status != status || r.Error == "" || r.Success {
		t.Fatalf("%s: want %d with an error message, got %d success=%v %q", what, status, r.Status, r.Success, r.Error)
	}
}

// apiTrackJSON is a valid track event of about size bytes.
func apiTrackJSON(id string, size int) string {
	ev := fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u1","event":"Order Completed","properties":{"pad":""}}`, id)
	if pad := size - len(ev); pad > 0 {
		ev = fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u1","event":"Order Completed","properties":{"pad":"%s"}}`,
			id, bytes.Repeat([]byte("x"), pad))
	}
	return ev
}
