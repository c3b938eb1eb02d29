package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web"
	"github.com/inlet-dev/inlet/web/api"
	"github.com/inlet-dev/inlet/web/webtest"
)

// spec is openapi.json as a router: every answer a test gets is validated
// against it (kin-openapi's openapi3filter), errors included.
var spec = sync.OnceValues(func() (routers.Router, error) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	// NDJSON is one JSON value per line: the spec says "string", so the
	// validator gets the text as it is.
	openapi3filter.RegisterBodyDecoder("application/x-ndjson",
		func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			return string(b), err
		})
	// The spec names paths relative to its server (/api/v1); the test
	// server is at any host.
	doc.Servers = openapi3.Servers{{URL: "/api/v1"}}
	return gorillamux.NewRouter(doc)
})

// env is a running Inlet (the real server over a fresh database) with a
// read token and a write token of its default workspace.
type env struct {
	st          *store.Store
	url         string
	read, write string
	ws          store.Workspace
	srv         *web.Server
	logs        *logBuffer // the server's log, as JSON lines
}

// logBuffer keeps what the server logged, for tests about its log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines are the logged lines decoded.
func (b *logBuffer) lines() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(b.buf.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// setup starts the real server over st with the events of bodies stored
// and applied to profiles.
func setup(t *testing.T, st *store.Store, bodies string) env {
	return setupWith(t, st, bodies, api.Limits{})
}

func setupWith(t *testing.T, st *store.Store, bodies string, limits api.Limits) env {
	t.Helper()
	ctx := context.Background()
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	supp := profiles.NewSuppressions(st)
	logs := &logBuffer{}
	log := slog.New(slog.NewJSONHandler(io.MultiWriter(tWriter{t}, logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	deps := webtest.Deps(t, webtest.Config(t, nil), st, log)
	deps.Suppressions, deps.APILimits = supp, limits
	srv, ing := webtest.Open(t, deps, &profiles.Gate{Inner: st, Suppressions: supp}, ingest.Options{Timeout: 10 * time.Second})
	if bodies != "" {
		submit(t, st, ing, ws, bodies)
		f := profiles.NewFollower(st, profiles.Options{Suppressions: supp})
		if _, err := f.CatchUp(ctx, ws.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, read, err := st.CreateAPIToken(ctx, ws.ID, "reader", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	_, write, err := st.CreateAPIToken(ctx, ws.ID, "eraser", store.ScopeWrite)
	if err != nil {
		t.Fatal(err)
	}
	return env{st: st, url: "http://" + srv.Addr(), read: read, write: write, ws: ws, srv: srv, logs: logs}
}

func submit(t *testing.T, st *store.Store, ing *ingest.Ingester, ws store.Workspace, bodies string) {
	t.Helper()
	evs, err := segment.Parse([]byte(bodies))
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.NewEvent
	for _, e := range evs {
		batch = append(batch, store.NewEvent{WorkspaceID: ws.ID, MessageID: e.MessageID, Type: e.Type, Event: e.Event, UserID: e.UserID,
			AnonymousID: e.AnonymousID, GroupID: e.GroupID, PreviousID: e.PreviousID, Timestamp: e.Timestamp,
			ReceivedAt: time.Now().UTC(), Source: "webhook", Raw: e.Raw})
	}
	// One event per submit keeps receivedAt (and so the order) distinct.
	for _, ne := range batch {
		if _, err := ing.Submit(context.Background(), []store.NewEvent{ne}); err != nil {
			t.Fatal(err)
		}
	}
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// do sends a request with the token (none when empty) and header pairs,
// and validates the answer against openapi.json: its status must be
// described for the route, and its body must match the schema.
func (e env) do(t *testing.T, method, path, token string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	validate(t, req, res, b)
	return res.StatusCode, res.Header, b
}

// validate checks one answer against openapi.json.
func validate(t *testing.T, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	router, err := spec()
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("openapi.json has no route for %s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	plain := body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if plain, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(plain)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, not as openapi.json says: %v\nbody: %.300s", req.Method, req.URL.RequestURI(), res.StatusCode, err, plain)
	}
}
