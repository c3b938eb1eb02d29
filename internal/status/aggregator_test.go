package status_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/status"
)

// clock is a settable time source shared by the aggregator and the test.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) time.Time {
	return time.Unix(0, c.ns.Add(int64(d))).UTC()
}
func (c *clock) now() time.Time { return time.Unix(0, c.ns.Load()).UTC() }

var t0 = time.Date(2026, 5, 6, 10, 0, 30, 0, time.UTC)

func TestRecentIsARingOfTheNewest20(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	g := status.NewAggregator(nil, status.Options{Now: clk.now})
	ws, other := uuid.New(), uuid.New()
	for i := range 25 {
		g.Record(status.Attempt{At: clk.add(time.Second), WorkspaceID: ws, Outcome: status.OutcomeAccepted, Status: 200, Accepted: i})
	}
	g.Record(status.Attempt{At: clk.now(), WorkspaceID: other, Outcome: status.OutcomeBadSignature, Status: 401})
	got := g.Snapshot(ws).Recent
	if len(got) != status.RecentAttempts {
		t.Fatalf("kept %d attempts, want %d", len(got), status.RecentAttempts)
	}
	for i, a := range got {
		if a.Accepted != 24-i || a.WorkspaceID != ws {
			t.Fatalf("recent[%d] = %+v, want Accepted %d of %s", i, a, 24-i, ws)
		}
	}
	if r := g.Snapshot(other).Recent; len(r) != 1 || r[0].Outcome != status.OutcomeBadSignature {
		t.Fatalf("other workspace: %+v", r)
	}
	if s := g.Snapshot(uuid.New()); len(s.Recent) != 0 || len(s.Minutes) != status.WindowMinutes || !s.LastAccepted.IsZero() {
		t.Fatalf("unknown workspace: %+v", s)
	}
}

func TestMinutesRollOver(t *testing.T) {
	t.Parallel()
	clk := newClock(t0) // 10:00:30
	g := status.NewAggregator(nil, status.Options{Now: clk.now})
	ws := uuid.New()
	g.Record(status.Attempt{At: clk.now(), WorkspaceID: ws, Outcome: status.OutcomeAccepted, Status: 200, Accepted: 5, Duplicates: 1})
	g.Record(status.Attempt{At: clk.now(), WorkspaceID: ws, Outcome: status.OutcomeDuplicate, Status: 200, Duplicates: 3})
	clk.add(40 * time.Second) // 10:01:10
	g.Record(status.Attempt{At: clk.now(), WorkspaceID: ws, Outcome: status.OutcomeBadSignature, Status: 401, Reason: "bad"})
	g.Record(status.Attempt{At: clk.now(), WorkspaceID: ws, Outcome: "something_new", Status: 418})

	s := g.Snapshot(ws)
	last, prev := s.Minutes[len(s.Minutes)-1], s.Minutes[len(s.Minutes)-2]
	if !last.Minute.Equal(time.Date(2026, 5, 6, 10, 1, 0, 0, time.UTC)) || last.Refused != 2 || last.Accepted != 0 {
		t.Fatalf("current minute = %+v", last)
	}
	if prev.Accepted != 5 || prev.Duplicates != 4 || prev.Refused != 0 {
		t.Fatalf("previous minute = %+v", prev)
	}
	want := status.HourCounts{Requests: 4, Accepted: 5, Duplicates: 4, Refused: 2}
	if s.Hour != want {
		t.Fatalf("hour = %+v, want %+v", s.Hour, want)
	}
	if fmt.Sprint(s.RefusedBy) != "[{bad_signature 1} {other 1}]" {
		t.Fatalf("refused by = %v", s.RefusedBy)
	}
	if !s.LastAccepted.Equal(t0) {
		t.Fatalf("last accepted = %v, want %v (refusals and duplicates do not count)", s.LastAccepted, t0)
	}

	clk.set(time.Date(2026, 5, 6, 11, 0, 0, 0, time.UTC)) // 10:00 is now 61 minutes ago
	s = g.Snapshot(ws)
	if s.Hour.Accepted != 0 || s.Hour.Refused != 2 || !s.Minutes[0].Minute.Equal(time.Date(2026, 5, 6, 10, 1, 0, 0, time.UTC)) {
		t.Fatalf("an hour later: hour %+v, first minute %v", s.Hour, s.Minutes[0].Minute)
	}
	clk.set(time.Date(2026, 5, 6, 11, 1, 20, 0, time.UTC))
	// Lands in the bucket 10:01 used: the stale counts must not add up.
	g.Record(status.Attempt{At: clk.now(), WorkspaceID: ws, Outcome: status.OutcomeAccepted, Status: 200, Accepted: 1})
	s = g.Snapshot(ws)
	if s.Hour != (status.HourCounts{Requests: 1, Accepted: 1}) || s.Minutes[59].Accepted != 1 {
		t.Fatalf("after the bucket is reused: %+v %+v", s.Hour, s.Minutes[59])
	}
	// A late report for a minute already out of the window changes nothing shown.
	g.Record(status.Attempt{At: t0, WorkspaceID: ws, Outcome: status.OutcomeAccepted, Status: 200, Accepted: 9})
	if s = g.Snapshot(ws); s.Hour.Accepted != 1 {
		t.Fatalf("late old attempt was counted: %+v", s.Hour)
	}
}

func TestRecordIsSafeConcurrently(t *testing.T) {
	t.Parallel()
	clk := newClock(t0)
	g := status.NewAggregator(nil, status.Options{Now: clk.now})
	ws := uuid.New()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				out := status.OutcomeAccepted
				if i%10 == 0 {
					out = status.OutcomeBadBody
				}
				g.Record(status.Attempt{WorkspaceID: ws, Outcome: out, Status: 200, Accepted: w % 2})
				if i%100 == 0 {
					_ = g.Snapshot(ws)
				}
			}
		}()
	}
	wg.Wait()
	s := g.Snapshot(ws)
	if s.Hour.Requests != 8000 || s.Hour.Refused != 800 || s.Hour.Accepted != 4000 {
		t.Fatalf("hour = %+v, want 8000 requests, 800 refused, 4000 accepted", s.Hour)
	}
}
