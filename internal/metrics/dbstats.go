package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// dbStatsCollector reports the same go_sql_* series as
// collectors.NewDBStatsCollector, but from a stats function: the store keeps
// its *sql.DB to itself and offers PoolStats instead.
type dbStatsCollector struct {
	stats func() sql.DBStats
	descs []*prometheus.Desc
}

type dbStat struct {
	name, help string
	kind       prometheus.ValueType
	value      func(sql.DBStats) float64
}

var dbStats = []dbStat{
	{"max_open_connections", "Maximum number of open connections to the database.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.MaxOpenConnections) }},
	{"open_connections", "The number of established connections both in use and idle.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.OpenConnections) }},
	{"in_use_connections", "The number of connections currently in use.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.InUse) }},
	{"idle_connections", "The number of idle connections.", prometheus.GaugeValue,
		func(s sql.DBStats) float64 { return float64(s.Idle) }},
	{"wait_count_total", "The total number of connections waited for.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.WaitCount) }},
	{"wait_duration_seconds_total", "The total time blocked waiting for a new connection.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return s.WaitDuration.Seconds() }},
	{"max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxIdleClosed) }},
	{"max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxIdleTimeClosed) }},
	{"max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime.", prometheus.CounterValue,
		func(s sql.DBStats) float64 { return float64(s.MaxLifetimeClosed) }},
}

func newDBStatsCollector(dbName string, stats func() sql.DBStats) *dbStatsCollector {
	c := &dbStatsCollector{stats: stats}
	for _, d := range dbStats {
		c.descs = append(c.descs, prometheus.NewDesc("go_sql_"+d.name, d.help, nil, prometheus.Labels{"db_name": dbName}))
	}
	return c
}

// Describe implements prometheus.Collector.
func (c *dbStatsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *dbStatsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	for i, d := range dbStats {
		ch <- prometheus.MustNewConstMetric(c.descs[i], d.kind, d.value(s))
	}
}
