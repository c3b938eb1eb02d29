package status

import (
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/lifecycle"
)

// What the connection status keeps per workspace.
const (
	RecentAttempts = 20 // shown on the settings page
	WindowMinutes  = 60 // counts and the per-minute chart cover the last hour
	keptAttempts   = 100
)

// outcomes fixes the order counts are kept and shown in; anything else is
// counted as "other" so a new outcome name can never index out of range.
var outcomes = [...]string{OutcomeAccepted, OutcomeDuplicate, OutcomeBadSignature, OutcomeNoSecret,
	OutcomeBadBody, OutcomeTooLarge, OutcomeUnavailable, OutcomeBadKey, OutcomeSuppressed, OutcomeErased, "other"}

const numOutcomes = len(outcomes)

func outcomeIndex(name string) int {
	for i, o := range outcomes {
		if o == name {
			return i
		}
	}
	return numOutcomes - 1
}

type counts struct{ requests, accepted, duplicates, suppressed int64 }

func (c *counts) add(o counts) {
	c.requests += o.requests
	c.accepted += o.accepted
	c.duplicates += o.duplicates
	c.suppressed += o.suppressed
}

// bucket is one minute of one workspace; buckets are reused round-robin,
// so a bucket whose minute is not the asked one holds stale counts.
type bucket struct {
	minute int64 // Unix minutes
	by     [numOutcomes]counts
}

type minuteKey struct {
	minute  int64
	outcome int
}

type workspace struct {
	lastAccepted time.Time
	recent       [RecentAttempts]Attempt // ring, newest at head-1
	head, n      int
	buckets      [WindowMinutes]bucket
	// Not yet written to the database; the flusher takes them.
	pendingAttempts []Attempt
	pendingMinutes  map[minuteKey]counts
}

func newWorkspace() *workspace { return &workspace{pendingMinutes: map[minuteKey]counts{}} }

func (w *workspace) push(a Attempt) {
	w.recent[w.head] = a
	w.head = (w.head + 1) % RecentAttempts
	w.n = min(w.n+1, RecentAttempts)
}

func (w *workspace) addMinute(m int64, outcome int, c counts) {
	b := &w.buckets[m%WindowMinutes]
	if b.minute != m {
		if b.minute > m {
			return // over an hour old: no longer shown
		}
		*b = bucket{minute: m}
	}
	b.by[outcome].add(c)
}

func unixMinute(t time.Time) int64 { return t.Unix() / 60 }

// Aggregator keeps each workspace's recent deliveries in memory, answers
// the dashboard from there and persists in the background (see persist.go).
type Aggregator struct {
	mu  sync.Mutex
	ws  map[uuid.UUID]*workspace
	now func() time.Time

	flushMu sync.Mutex // one load or flush at a time
	loaded  bool
	retry   *batch // taken by a flush that failed; guarded by flushMu
	st      Store
	opts    Options
	run     *lifecycle.Group
}

// Record implements Recorder: constant time, no I/O.
func (g *Aggregator) Record(a Attempt) {
	if a.At.IsZero() {
		a.At = g.now()
	}
	a.At = a.At.UTC()
	oi := outcomeIndex(a.Outcome)
	a.Outcome = outcomes[oi]
	c := counts{requests: 1, accepted: int64(a.Accepted), duplicates: int64(a.Duplicates), suppressed: int64(a.Suppressed)}
	m := unixMinute(a.At)

	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.ws[a.WorkspaceID]
	if w == nil {
		w = newWorkspace()
		g.ws[a.WorkspaceID] = w
	}
	w.push(a)
	if a.Accepted > 0 && a.At.After(w.lastAccepted) {
		w.lastAccepted = a.At
	}
	w.addMinute(m, oi, c)
	k := minuteKey{m, oi}
	p := w.pendingMinutes[k]
	p.add(c)
	w.pendingMinutes[k] = p
	if len(w.pendingAttempts) == keptAttempts {
		// Only the newest keptAttempts are stored anyway.
		copy(w.pendingAttempts, w.pendingAttempts[1:])
		w.pendingAttempts = w.pendingAttempts[:keptAttempts-1]
	}
	w.pendingAttempts = append(w.pendingAttempts, a)
}

// Snapshot is one workspace's connection status.
type Snapshot struct {
	LastAccepted time.Time      // zero: no event accepted yet
	Hour         HourCounts     // the last WindowMinutes minutes
	Minutes      []MinutePoint  // WindowMinutes points, oldest first, ending now
	Recent       []Attempt      // newest first
	RefusedBy    []OutcomeCount // last hour, outcomes with any requests
}

// HourCounts sums the last hour.
type HourCounts struct {
	Requests   int64 `json:"requests"`
	Accepted   int64 `json:"accepted"`   // events stored
	Duplicates int64 `json:"duplicates"` // events already stored before
	Suppressed int64 `json:"suppressed"` // events of erased (suppressed) ids, not stored
	Refused    int64 `json:"refused"`    // requests answered with an error
}

// MinutePoint is one bar of the per-minute chart.
type MinutePoint struct {
	Minute     time.Time `json:"minute"`
	Accepted   int64     `json:"accepted"`
	Duplicates int64     `json:"duplicates"`
	Suppressed int64     `json:"suppressed"`
	Refused    int64     `json:"refused"`
}

// OutcomeCount is how many requests ended one way.
type OutcomeCount struct {
	Outcome  string `json:"outcome"`
	Requests int64  `json:"requests"`
}

// Refused reports whether an outcome is a refusal (not stored, not a duplicate).
func Refused(outcome string) bool {
	return outcome != OutcomeAccepted && outcome != OutcomeDuplicate && outcome != OutcomeSuppressed && outcome != OutcomeErased
}

// Snapshot returns the workspace's status as of now.
func (g *Aggregator) Snapshot(ws uuid.UUID) Snapshot {
	now := unixMinute(g.now())
	s := Snapshot{Minutes: make([]MinutePoint, WindowMinutes)}
	var refused [numOutcomes]int64
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.ws[ws]
	for i := range s.Minutes {
		m := now - int64(WindowMinutes-1-i)
		p := MinutePoint{Minute: time.Unix(m*60, 0).UTC()}
		if w != nil && w.buckets[m%WindowMinutes].minute == m {
			for oi, c := range w.buckets[m%WindowMinutes].by {
				p.Accepted += c.accepted
				p.Duplicates += c.duplicates
				p.Suppressed += c.suppressed
				s.Hour.Requests += c.requests
				if Refused(outcomes[oi]) {
					p.Refused += c.requests
					refused[oi] += c.requests
				}
			}
		}
		s.Hour.Accepted += p.Accepted
		s.Hour.Duplicates += p.Duplicates
		s.Hour.Suppressed += p.Suppressed
		s.Hour.Refused += p.Refused
		s.Minutes[i] = p
	}
	for oi, n := range refused {
		if n > 0 {
			s.RefusedBy = append(s.RefusedBy, OutcomeCount{Outcome: outcomes[oi], Requests: n})
		}
	}
	if w == nil {
		return s
	}
	s.LastAccepted = w.lastAccepted
	s.Recent = w.newestFirst()
	return s
}

func (w *workspace) newestFirst() []Attempt {
	out := make([]Attempt, 0, w.n)
	for i := 1; i <= w.n; i++ {
		out = append(out, w.recent[(w.head-i+RecentAttempts)%RecentAttempts])
	}
	return out
}

// resetRecent refills the ring from attempts in any order, keeping the newest.
func (w *workspace) resetRecent(attempts []Attempt) {
	slices.SortStableFunc(attempts, func(a, b Attempt) int { return a.At.Compare(b.At) })
	if len(attempts) > RecentAttempts {
		attempts = attempts[len(attempts)-RecentAttempts:]
	}
	w.recent, w.head, w.n = [RecentAttempts]Attempt{}, 0, 0
	for _, a := range attempts {
		w.push(a)
	}
}
