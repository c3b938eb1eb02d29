package audiences

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"
)

// LeafState is what one identity's events say about one performed leaf:
// how many matched in all, and the timestamps (Unix milliseconds, newest
// first) of the latest Keep of them. A windowed count is exact from those
// alone: whether at least n events fall in a window ending now depends only
// on the n-th newest, and every op is decided by counting up to value+1.
// States are per identity (a userId or an anonymousId, the one the profile
// follower counts the event for), so a merge needs no rewrite: a profile's
// state is the union of its identities' states, whatever merged when.
type LeafState struct {
	Count  int64   `json:"c"`
	Stamps []int64 `json:"s,omitempty"`
}

// Keep is how many timestamps a leaf's state holds (0 without a window).
func (p *Performed) Keep() int {
	if p.Window == 0 {
		return 0
	}
	return int(p.Count.Value) + 1
}

// Add counts one matching event at ts.
func (s *LeafState) Add(ts time.Time, keep int) {
	s.Count++
	if keep == 0 {
		return
	}
	s.Stamps = insertStamp(s.Stamps, ts.UnixMilli(), keep)
}

// Union folds o into s (a profile holding both identities).
func (s *LeafState) Union(o *LeafState, keep int) {
	if o == nil {
		return
	}
	s.Count += o.Count
	for _, t := range o.Stamps {
		s.Stamps = insertStamp(s.Stamps, t, keep)
	}
}

// Prune drops the timestamps that can no longer count at now or later.
func (s *LeafState) Prune(now time.Time, window int64) {
	if window == 0 {
		return
	}
	floor := now.UnixMilli() - window*1000
	i := len(s.Stamps)
	for i > 0 && s.Stamps[i-1] < floor {
		i--
	}
	s.Stamps = s.Stamps[:i]
}

func insertStamp(stamps []int64, t int64, keep int) []int64 {
	i, _ := slices.BinarySearchFunc(stamps, t, func(a, b int64) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	if i >= keep {
		return stamps
	}
	stamps = slices.Insert(stamps, i, t)
	if len(stamps) > keep {
		stamps = stamps[:keep]
	}
	return stamps
}

// events is the type and, for track, the name of the events p counts, as
// the store's event reads take them.
func (p *Performed) events() (typ, name string) {
	if p.Type != "" {
		return p.Type, ""
	}
	return "track", p.Event
}

// leafID names a performed leaf by its content, so identical leaves of
// several audiences (or versions) share their state.
func leafID(p *Performed) string {
	b, _ := json.Marshal(p)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// evalPerformed answers a performed leaf from a profile's state at now:
// the count seen and when the answer next flips as events leave the window.
func evalPerformed(p *Performed, s *LeafState, now time.Time) (bool, int64, time.Time) {
	if s == nil {
		s = &LeafState{}
	}
	if p.Window == 0 {
		return cmpCount(p.Count, s.Count), s.Count, time.Time{}
	}
	floor := now.UnixMilli() - p.Window*1000
	var in []int64 // newest first
	for _, t := range s.Stamps {
		if t < floor {
			break
		}
		in = append(in, t)
	}
	n := int64(len(in))
	ok := cmpCount(p.Count, n)
	// The oldest in the window leaves first: after in[i] leaves, n-(len-i) remain.
	for i := len(in) - 1; i >= 0; i-- {
		left := int64(i) // events still in after in[i] and all older leave
		if cmpCount(p.Count, left) != ok {
			return ok, n, time.UnixMilli(in[i] + p.Window*1000 + 1).UTC()
		}
	}
	return ok, n, time.Time{}
}

func cmpCount(c CountOp, n int64) bool {
	cmp := 0
	switch {
	case n < c.Value:
		cmp = -1
	case n > c.Value:
		cmp = 1
	}
	return cmpOK(c.Op, cmp)
}
