package metrics_test

import (
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/status"
)

// TestOperationsDocListsEveryMetric keeps docs/operations.md's metrics list
// complete: every family Inlet exports is named there.
func TestOperationsDocListsEveryMetric(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New("v")
	// Touch every vector so its family is exported.
	m.Record(status.Attempt{Source: "webhook", Outcome: status.OutcomeAccepted, Accepted: 1, Duplicates: 1})
	m.Committed(1, 1, time.Millisecond, nil)
	m.Committed(1, 1, time.Millisecond, errors.New("down"))
	m.ObserveHTTP("/healthz", "GET", 200, time.Millisecond)
	m.RetentionPass(3, nil)
	m.WatchQueue(func() int { return 0 })
	m.WatchDB("postgres", func() sql.DBStats { return sql.DBStats{} })

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, f := range fams {
		name := f.GetName()
		if !strings.HasPrefix(name, "inlet_") && !strings.HasPrefix(name, "go_sql_") {
			continue // Go runtime and process collectors, documented as families
		}
		seen++
		if !strings.Contains(string(doc), "`"+name+"`") && !strings.Contains(string(doc), "`"+name+"{") {
			t.Errorf("docs/operations.md does not list the metric %s", name)
		}
	}
	if seen < 15 {
		t.Errorf("only %d Inlet metric families exported", seen)
	}
}
