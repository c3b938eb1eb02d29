package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// scrape parses a /metrics answer the way Prometheus does.
func scrape(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics is not the Prometheus text format: %v\n%s", err, body)
	}
	return fams
}

// sample returns the value of the series of family name whose labels include
// every pair in labels; ok is false when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) (v float64, ok bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, lp := range m.GetLabel() {
			have[lp.GetName()] = lp.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if have[labels[i]] != labels[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

func TestMetricsCountWhatHappened(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	o := webtest.StartOps(t, st, nil, nil)
	fx := webtest.Fixtures(t)["track.json"]
	o.SetSecret(o.WS.ID, webtest.FixtureSecret)

	if r := o.Post("", fx.Sig, fx.Body); r.Status != http.StatusOK || r.Accepted != 1 {
		t.Fatalf("first delivery: %+v", r)
	}
	if r := o.Post("", fx.Sig, fx.Body); r.Status != http.StatusOK || r.Duplicates != 1 {
		t.Fatalf("retried delivery: %+v", r)
	}
	if r := o.Post("", strings.Repeat("0", 40), fx.Body); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong signature: %+v", r)
	}

	resp, body := o.Get("/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q, want the text exposition format", ct)
	}
	fams := scrape(t, body)

	// The pool figures carry the store's dialect and are the pool's own:
	// a bounded pool, with the connections the deliveries above opened.
	db, pool := string(st.Dialect()), st.PoolStats()
	if pool.MaxOpenConnections <= 0 {
		t.Fatalf("the store's pool is unbounded (%d): the figure below would prove nothing", pool.MaxOpenConnections)
	}
	maxOpen := float64(pool.MaxOpenConnections)
	want := []struct {
		name   string
		labels []string
		min    float64
		exact  bool
	}{
		{"inlet_deliveries_total", []string{"source", "webhook", "outcome", "accepted"}, 1, true},
		{"inlet_deliveries_total", []string{"source", "webhook", "outcome", "duplicate"}, 1, true},
		{"inlet_deliveries_total", []string{"source", "webhook", "outcome", "bad_signature"}, 1, true},
		{"inlet_events_accepted_total", []string{"source", "webhook"}, 1, true},
		{"inlet_events_duplicates_total", []string{"source", "webhook"}, 1, true},
		{"inlet_ingest_commits_total", []string{"result", "ok"}, 2, true},
		{"inlet_ingest_batch_events", nil, 2, true},
		{"inlet_ingest_batch_requests", nil, 2, true},
		{"inlet_ingest_commit_seconds", nil, 2, true},
		{"inlet_ingest_queue_depth", nil, 0, true},
		{"inlet_http_requests_total", []string{"route", "/api/public/webhooks/segment", "method", "POST", "code", "200"}, 2, true},
		{"inlet_http_requests_total", []string{"route", "/api/public/webhooks/segment", "method", "POST", "code", "401"}, 1, true},
		{"inlet_build_info", []string{"version", "test-version"}, 1, true},
		{"go_sql_max_open_connections", []string{"db_name", db}, maxOpen, true},
		{"go_sql_open_connections", []string{"db_name", db}, 1, false},
		{"go_sql_wait_count_total", []string{"db_name", db}, 0, false},
		{"go_goroutines", nil, 1, false},
		{"process_resident_memory_bytes", nil, 1, false},
	}
	if open, _ := sample(fams, "go_sql_open_connections", "db_name", db); open > maxOpen {
		t.Errorf("go_sql_open_connections = %v, more than the pool's limit %v", open, maxOpen)
	}
	for _, w := range want {
		v, ok := sample(fams, w.name, w.labels...)
		switch {
		case !ok:
			t.Errorf("%s%v missing from /metrics", w.name, w.labels)
		case w.exact && v != w.min:
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, v, w.min)
		case !w.exact && v < w.min:
			t.Errorf("%s%v = %v, want at least %v", w.name, w.labels, v, w.min)
		}
	}
}

func TestMetricsToken(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-5d1f0c2a"
	// No network allowed, so this loopback client needs the token.
	o := webtest.StartOps(t, testdb.SQLite(t), map[string]string{"METRICS_TOKEN": token, "METRICS_ALLOWED_NETWORKS": "none"}, nil)

	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"no header", "", http.StatusUnauthorized},
		{"wrong token", "Bearer not-the-token", http.StatusUnauthorized},
		{"token prefix only", "Bearer " + token[:10], http.StatusUnauthorized},
		{"basic scheme", "Basic " + token, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"right token", "Bearer " + token, http.StatusOK},
		{"scheme is case-insensitive", "bearer " + token, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			resp, body := o.Get("/metrics", hdr...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want == http.StatusOK {
				if _, ok := sample(scrape(t, body), "inlet_build_info"); !ok {
					t.Fatalf("authorized scrape has no inlet_build_info:\n%s", body)
				}
				return
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || !strings.Contains(e.Error, "METRICS_TOKEN") {
				t.Errorf("refusal is not the JSON error naming METRICS_TOKEN: %s", body)
			}
			if resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if bytes.Contains(body, []byte("inlet_")) {
				t.Error("refused scrape leaked metrics")
			}
		})
	}
}

// Issue 19 item 21: /metrics answers clients from METRICS_ALLOWED_NETWORKS
// (loopback by default) or holding METRICS_TOKEN, with the client address
// decided once by internal/clientip (X-Forwarded-For only from
// TRUSTED_PROXIES). The test client is on loopback; X-Forwarded-For plays
// the client behind a proxy.
func TestMetricsAllowedNetworks(t *testing.T) {
	t.Parallel()
	const token = "scrape-token-7e4b19c0"
	st := testdb.SQLite(t)
	for _, tc := range []struct {
		name string
		env  map[string]string
		hdr  []string
		want int
	}{
		{"default: loopback reads", nil, nil, http.StatusOK},
		{"loopback not in the list", map[string]string{"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8"}, nil, http.StatusForbidden},
		{"forged X-Forwarded-For without TRUSTED_PROXIES is ignored",
			map[string]string{"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8"}, []string{"X-Forwarded-For", "10.1.2.3"}, http.StatusForbidden},
		{"behind a trusted proxy: the forwarded client is in the list",
			map[string]string{"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8", "TRUSTED_PROXIES": "127.0.0.1"}, []string{"X-Forwarded-For", "10.1.2.3"}, http.StatusOK},
		{"behind a trusted proxy: a public client is refused although the proxy is loopback",
			map[string]string{"TRUSTED_PROXIES": "127.0.0.1"}, []string{"X-Forwarded-For", "203.0.113.9"}, http.StatusForbidden},
		{"outside the list with the token",
			map[string]string{"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8", "METRICS_TOKEN": token}, []string{"Authorization", "Bearer " + token}, http.StatusOK},
		{"outside the list without the token",
			map[string]string{"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8", "METRICS_TOKEN": token}, nil, http.StatusUnauthorized},
		{"inside the list with a wrong token",
			map[string]string{"METRICS_TOKEN": token}, []string{"Authorization", "Bearer wrong"}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := webtest.StartOps(t, st, tc.env, nil)
			resp, body := o.Get("/metrics", tc.hdr...)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if tc.want != http.StatusOK {
				if bytes.Contains(body, []byte("inlet_")) {
					t.Error("refused scrape leaked metrics")
				}
				if !bytes.Contains(body, []byte("METRICS_ALLOWED_NETWORKS")) {
					t.Errorf("refusal does not say how to be let in: %s", body)
				}
			}
		})
	}
}
