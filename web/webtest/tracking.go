package webtest

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
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web"
)

// Tracking is a real Inlet server for HTTP Tracking API tests, with a
// write key of the default workspace and every attempt recorded.
type Tracking struct {
	T   testing.TB
	St  *store.Store
	Srv *web.Server
	Ing *ingest.Ingester
	URL string
	WS  store.Workspace
	Key store.WriteKey
	Raw string // the key's text
	Rec *Attempts
}

// Attempts records every delivery attempt the server reports.
type Attempts struct {
	mu   sync.Mutex
	list []status.Attempt
}

// Record implements status.Recorder.
func (l *Attempts) Record(a status.Attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.list = append(l.list, a)
}

// All is a copy of what was recorded so far.
func (l *Attempts) All() []status.Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]status.Attempt(nil), l.list...)
}

// StartTracking starts a server over st with a fresh write key. Its
// commit deadline is long (10 s, stretched on a slow store): the tests that
// start here are about what the API answers, not about timeouts (those size
// the ingester with StartTrackingWith), and a loaded machine must not turn a
// 2,500-event commit on SQLite into a 503.
func StartTracking(t testing.TB, st *store.Store) *Tracking {
	t.Helper()
	return StartTrackingWith(t, st, st, ingest.Options{Timeout: testutil.Patience(testdb.Patience(10 * time.Second))})
}

// StartTrackingWith lets a test size the ingester and put something in
// front of the real store (to hold commits back, say).
func StartTrackingWith(t testing.TB, st *store.Store, ins ingest.Inserter, opts ingest.Options) *Tracking {
	t.Helper()
	rec := &Attempts{}
	deps := Deps(t, Config(t, nil), st, Logger(t))
	deps.Attempts = rec
	srv, ing := Open(t, deps, ins, opts)
	ctx := context.Background()
	ws, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatalf("default workspace: %v", err)
	}
	k, raw, err := st.CreateWriteKey(ctx, ws.ID, "tests")
	if err != nil {
		t.Fatalf("create write key: %v", err)
	}
	return &Tracking{T: t, St: st, Srv: srv, Ing: ing, URL: "http://" + srv.Addr(), WS: ws, Key: k, Raw: raw, Rec: rec}
}

// TrackingReply is the Tracking API's answer.
type TrackingReply struct {
	Status  int
	Header  http.Header
	Success bool   `json:"success"`
	Error   string `json:"error"`
}

// Post sends body to path; hdr are header name/value pairs. "Basic" as a
// name is shorthand for HTTP Basic with that value as the user name.
func (a *Tracking) Post(path string, body []byte, hdr ...string) TrackingReply {
	a.T.Helper()
	req, err := http.NewRequest(http.MethodPost, a.URL+path, bytes.NewReader(body))
	if err != nil {
		a.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Basic" {
			req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(hdr[i+1]+":")))
			continue
		}
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return a.Do(req)
}

// Do sends req and reads the answer as the Tracking API's JSON.
func (a *Tracking) Do(req *http.Request) TrackingReply {
	a.T.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := TrackingReply{Status: resp.StatusCode, Header: resp.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r); err != nil {
			a.T.Fatalf("answer is not JSON (status %d): %q", resp.StatusCode, raw)
		}
	}
	return r
}

// Auth is the Basic header pair for the server's key.
func (a *Tracking) Auth() []string { return []string{"Basic", a.Raw} }

// Count is the number of events stored in the default workspace.
func (a *Tracking) Count() int64 {
	a.T.Helper()
	n, err := a.St.CountEvents(context.Background(), a.WS.ID)
	if err != nil {
		a.T.Fatalf("count: %v", err)
	}
	return n
}

// Stored is the stored event with messageID, or the test fails.
func (a *Tracking) Stored(messageID string) store.StoredEvent {
	a.T.Helper()
	ev, err := a.St.EventByMessageID(context.Background(), a.WS.ID, messageID)
	if err != nil {
		a.T.Fatalf("event %q not stored: %v", messageID, err)
	}
	return ev
}

// MustTrackingOK fails unless r is 200 {"success": true}.
func MustTrackingOK(t testing.TB, what string, r TrackingReply) {
	t.Helper()
	if r.Status != http.StatusOK || !r.Success {
		t.Fatalf("%s: want 200 {success: true}, got %d %q", what, r.Status, r.Error)
	}
}

// MustTrackingRefuse fails unless r is status with an error message.
func MustTrackingRefuse(t testing.TB, what string, r TrackingReply, status int) {
	t.Helper()
	if r.Status != status || r.Error == "" || r.Success {
		t.Fatalf("%s: want %d with an error message, got %d success=%v %q", what, status, r.Status, r.Success, r.Error)
	}
}

// TrackJSON is a valid track event of about size bytes.
func TrackJSON(id string, size int) string {
	ev := fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u1","event":"Order Completed","properties":{"pad":""}}`, id)
	if pad := size - len(ev); pad > 0 {
		ev = fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"u1","event":"Order Completed","properties":{"pad":"%s"}}`,
			id, bytes.Repeat([]byte("x"), pad))
	}
	return ev
}
