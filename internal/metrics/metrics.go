// Package metrics keeps Inlet's Prometheus figures in a registry of its own
// (never the global one, so tests and a second server in one process do not
// collide) and exposes them for GET /metrics.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/inlet-dev/inlet/internal/status"
)

const namespace = "inlet"

// Metrics is safe for concurrent use. It is a status.Recorder (deliveries by
// outcome) and an ingest.Observer (group commits).
type Metrics struct {
	reg *prometheus.Registry

	deliveries *prometheus.CounterVec
	accepted   *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	suppressed *prometheus.CounterVec

	commits       *prometheus.CounterVec
	batchEvents   prometheus.Histogram
	batchRequests prometheus.Histogram
	commitSeconds prometheus.Histogram

	httpRequests *prometheus.CounterVec
	httpSeconds  *prometheus.HistogramVec

	retentionDeleted prometheus.Counter
	retentionRuns    *prometheus.CounterVec

	destAttempts *prometheus.CounterVec
	destSeconds  prometheus.Histogram

	mergesRefused *prometheus.CounterVec
	// routes is the route table's patterns, set once before serving (see
	// SetRoutes); a route outside it is counted as "other".
	routes atomic.Pointer[map[string]bool]
}

// New registers every Inlet metric plus the Go runtime and process collectors.
func New(version string) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	f := func(c prometheus.Collector) { reg.MustRegister(c) }

	m.deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "deliveries_total",
		Help: "Webhook and Tracking API requests by source and outcome (accepted, duplicate, suppressed, erased, bad_signature, no_secret, bad_body, too_large, unavailable, bad_key).",
	}, []string{"source", "outcome"})
	m.accepted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_accepted_total", Help: "Events newly stored, by source.",
	}, []string{"source"})
	m.duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_duplicates_total", Help: "Events already stored (Segment retries), by source.",
	}, []string{"source"})
	m.suppressed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Name: "events_suppressed_total", Help: "Events of erased (suppressed) ids, acknowledged and not stored, by source.",
	}, []string{"source"})

	m.commits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "ingest", Name: "commits_total", Help: "Group commits by result (ok or error).",
	}, []string{"result"})
	m.batchEvents = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "ingest", Name: "batch_events", Help: "Events written per group commit.",
		Buckets: []float64{1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000},
	})
	m.batchRequests = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "ingest", Name: "batch_requests", Help: "Webhook requests answered per group commit.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
	})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "ingest", Name: "commit_seconds", Help: "Time one group commit took.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})

	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "code"})
	m.httpSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_seconds", Help: "HTTP request duration by route.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"route"})

	m.retentionDeleted = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "retention", Name: "deleted_events_total", Help: "Events deleted by RETENTION_DAYS.",
	})
	m.retentionRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "retention", Name: "runs_total", Help: "Retention passes by result (ok or error).",
	}, []string{"result"})

	m.destAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "destination", Name: "attempts_total",
		Help: "Delivery attempts to destinations by outcome (delivered, retrying, failed = given up, paused = 410 Gone) and status class (2xx, 3xx, 4xx, 5xx, none).",
	}, []string{"outcome", "status"})
	m.destSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "destination", Name: "attempt_seconds", Help: "Time one delivery attempt took.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
	})

	m.mergesRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "profiles", Name: "merges_refused_total",
		Help: "Alias merges refused, by reason (untrusted = two users asked by a client write key, max_user_ids = past PROFILE_MAX_USER_IDS); a rebuild counts its refusals again.",
	}, []string{"reason"})
	for _, r := range mergeRefusalReasons {
		m.mergesRefused.WithLabelValues(r) // shown at 0 before the first refusal
	}

	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: namespace, Name: "build_info", Help: "Always 1; the version label says which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)

	for _, c := range []prometheus.Collector{m.deliveries, m.accepted, m.duplicates, m.suppressed, m.commits, m.batchEvents,
		m.batchRequests, m.commitSeconds, m.httpRequests, m.httpSeconds, m.retentionDeleted, m.retentionRuns, m.destAttempts, m.destSeconds, m.mergesRefused, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Record implements status.Recorder: one call per delivery, on the hot path.
func (m *Metrics) Record(a status.Attempt) {
	m.deliveries.WithLabelValues(a.Source, a.Outcome).Inc()
	if a.Accepted > 0 {
		m.accepted.WithLabelValues(a.Source).Add(float64(a.Accepted))
	}
	if a.Duplicates > 0 {
		m.duplicates.WithLabelValues(a.Source).Add(float64(a.Duplicates))
	}
	if a.Suppressed > 0 {
		m.suppressed.WithLabelValues(a.Source).Add(float64(a.Suppressed))
	}
}

// Committed implements ingest.Observer.
func (m *Metrics) Committed(events, requests int, took time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.commits.WithLabelValues(result).Inc()
	m.batchEvents.Observe(float64(events))
	m.batchRequests.Observe(float64(requests))
	m.commitSeconds.Observe(took.Seconds())
}

// ObserveHTTP counts one answered request. Every label value comes from a
// fixed set, whatever the request said: the method from the known methods,
// the route from the route table (SetRoutes), the code from 100–599 (each
// else "other"). A label value taken as sent is a new series per distinct
// value, kept until restart: 12,000 made-up 30 KB methods once took the
// server to 1.1 GB.
func (m *Metrics) ObserveHTTP(route, method string, code int, took time.Duration) {
	route = m.knownRoute(route)
	m.httpRequests.WithLabelValues(route, Method(method), statusLabel(code)).Inc()
	m.httpSeconds.WithLabelValues(route).Observe(took.Seconds())
}

// SetRoutes gives the route patterns that may be route labels ("unmatched"
// is always allowed): the server passes its route table once it is built.
func (m *Metrics) SetRoutes(patterns []string) {
	known := make(map[string]bool, len(patterns)+1)
	for _, p := range patterns {
		known[p] = true
	}
	known["unmatched"] = true
	m.routes.Store(&known)
}

func (m *Metrics) knownRoute(route string) string {
	known := m.routes.Load()
	if known == nil || !(*known)[route] {
		return "other"
	}
	return route
}

// knownMethods are the methods a label (or a log line) may name as sent.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
	http.MethodConnect: true, http.MethodTrace: true,
}

// Method is method when it is a standard HTTP method, else "other".
func Method(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}

func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

// RetentionPass counts one retention pass and the events it deleted.
func (m *Metrics) RetentionPass(deleted int64, err error) {
	m.retentionDeleted.Add(float64(deleted))
	if err != nil {
		m.retentionRuns.WithLabelValues("error").Inc()
		return
	}
	m.retentionRuns.WithLabelValues("ok").Inc()
}

// mergeRefusalReasons is the fixed label set of refused merges (the values
// of store.RefusedUntrusted and store.RefusedMaxUserIDs).
var mergeRefusalReasons = []string{"untrusted", "max_user_ids"}

// MergeRefused counts one refused alias merge (profiles.Options.OnMergeRefused).
func (m *Metrics) MergeRefused(reason string) {
	if reason != mergeRefusalReasons[0] && reason != mergeRefusalReasons[1] {
		reason = "other"
	}
	m.mergesRefused.WithLabelValues(reason).Inc()
}

// destinationOutcomes is the fixed label set of destination attempts.
var destinationOutcomes = map[string]bool{"delivered": true, "retrying": true, "failed": true, "paused": true}

// DestinationAttempt implements delivery.Observer.
func (m *Metrics) DestinationAttempt(outcome string, status int, took time.Duration) {
	if !destinationOutcomes[outcome] {
		outcome = "other"
	}
	class := "none"
	if status >= 200 && status < 600 {
		class = strconv.Itoa(status/100) + "xx"
	}
	m.destAttempts.WithLabelValues(outcome, class).Inc()
	m.destSeconds.Observe(took.Seconds())
}

// WatchQueue exposes the ingest queue depth, read at scrape time.
func (m *Metrics) WatchQueue(depth func() int) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: namespace, Subsystem: "ingest", Name: "queue_depth", Help: "Webhook requests waiting for a group commit.",
	}, func() float64 { return float64(depth()) }))
}

// WatchDB exposes the connection pool figures (go_sql_*), read at scrape time.
func (m *Metrics) WatchDB(dbName string, stats func() sql.DBStats) {
	m.reg.MustRegister(newDBStatsCollector(dbName, stats))
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is for tests that gather without HTTP.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
