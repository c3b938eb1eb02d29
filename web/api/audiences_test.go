package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web"
	"golang.org/x/crypto/bcrypt"
)

// Every answer of the audience routes (successes and refusals) is what
// openapi.json says, on the real server with the engine running.
func TestAudienceAnswersMatchOpenAPI(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		ws, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		supp := profiles.NewSuppressions(st)
		ing := ingest.New(&profiles.Gate{Inner: st, Suppressions: supp}, ingest.Options{Timeout: 10 * time.Second})
		t.Cleanup(func() { _ = ing.Close(context.Background()) })
		submit(t, st, ing, ws, `[{"type":"identify","messageId":"i1","userId":"ann","anonymousId":"a1","timestamp":"2026-01-01T00:00:00Z","traits":{"plan":"pro"}},
			{"type":"track","messageId":"t1","userId":"ann","event":"Signed Up","timestamp":"2026-01-01T00:00:01Z"}]`)
		f := profiles.NewFollower(st, profiles.Options{Suppressions: supp, Poll: 20 * time.Millisecond})
		eng := audiences.NewEngine(st, audiences.Options{Poll: 20 * time.Millisecond})
		f.Start(ctx)
		eng.Start(ctx)
		t.Cleanup(func() { _ = eng.Close(context.Background()); _ = f.Close(context.Background()) })
		cfg, err := config.Load(func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		a, err := auth.New(ctx, st, auth.Options{PasswordCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		agg := status.NewAggregator(nil, status.Options{Logger: log})
		srv, err := web.New(web.Deps{Config: cfg, Store: st, Ingester: ing, Logger: log, Auth: a, Status: agg, Attempts: agg,
			Metrics: metrics.New("test"), Suppressions: supp, Audiences: eng})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.Open("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = srv.Close(context.Background()) })
		_, read, _ := st.CreateAPIToken(ctx, ws.ID, "reader", store.ScopeRead)
		_, write, _ := st.CreateAPIToken(ctx, ws.ID, "writer", store.ScopeWrite)
		url := "http://" + srv.Addr() + "/api/v1"
		call := func(method, path, token, body string) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			// Validate against a copy: the request body was consumed.
			vreq, _ := http.NewRequest(method, url+path, strings.NewReader(body))
			vreq.Header = req.Header
			validate(t, vreq, res, b)
			return res.StatusCode, string(b)
		}
		def := `{"key":"pro","name":"Pro","condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},{"performed":{"event":"Signed Up","within":"400d"}}]}}`
		for _, c := range []struct {
			method, path, token, body string
			want                      int
		}{
			{"POST", "/audiences", write, `{"key":"bad","name":"B","condition":{"trait":"x","op":"nope","value":1}}`, 422},
			{"POST", "/audiences", read, def, 403},
			{"POST", "/audiences", write, def, 201},
			{"POST", "/audiences", write, def, 409},
			{"GET", "/audiences", read, "", 200},
			{"GET", "/audiences/pro", read, "", 200},
			{"GET", "/audiences/nope", read, "", 404},
			{"POST", "/audiences/preview", write, def, 200},
			{"GET", "/audiences/pro/members?limit=0", read, "", 400},
		} {
			if code, body := call(c.method, c.path, c.token, c.body); code != c.want {
				t.Fatalf("%s %s: %d %s, want %d", c.method, c.path, code, body, c.want)
			}
		}
		// Keys that name routes (/audiences/new, /audiences/preview) are refused.
		for _, k := range []string{"new", "preview"} {
			code, body := call("POST", "/audiences", write, `{"key":"`+k+`","name":"R","condition":{"trait":"plan","op":"exists"}}`)
			if code != 422 || !strings.Contains(body, `"error":"key: `) {
				t.Fatalf("key %q: %d %s, want 422 naming key", k, code, body)
			}
		}
		testutil.Wait(t, "ann to enter pro", func() bool {
			_, body := call("GET", "/audiences/pro/members", read, "")
			return strings.Contains(body, `"userId":"ann"`)
		})
		for _, c := range []struct {
			method, path string
			want         int
		}{
			{"GET", "/audiences/pro/explain?userId=ann", 200},
			{"GET", "/audiences/pro/explain?userId=nobody", 404},
			{"GET", "/audiences/pro/history?userId=ann&limit=5", 200},
			{"GET", "/users/ann", 200},
		} {
			if code, body := call(c.method, c.path, read, ""); code != c.want {
				t.Fatalf("%s %s: %d %s", c.method, c.path, code, body)
			}
		}
		if code, body := call("PUT", "/audiences/pro", write, strings.Replace(def, `"Pro"`, `"Pro 2"`, 1)); code != 200 || !strings.Contains(body, `"version":2`) {
			t.Fatalf("PUT: %d %s", code, body)
		}
		if code, body := call("DELETE", "/audiences/pro", write, ""); code != 204 {
			t.Fatalf("DELETE: %d %s", code, body)
		}
	})
}
