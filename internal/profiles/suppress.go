package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// HashID is how a suppressed identity is kept: the SHA-256 of its kind and
// value, so the suppression list does not hold erased ids in the clear.
func HashID(kind, id string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + id))
	return hex.EncodeToString(sum[:])
}

// Suppressions caches the suppressed ids of every workspace for the ingest
// path and the follower. It re-reads the table at most every refreshEvery,
// and only when its fingerprint changed; Invalidate forces the next read
// (this instance's erasures call it, so they apply here at once; other
// instances follow within refreshEvery, and the follower deletes whatever
// they stored meanwhile).
type Suppressions struct {
	st           *store.Store
	refreshEvery time.Duration

	mu      sync.RWMutex
	hashes  map[uuid.UUID]map[string]bool
	state   store.SuppressionState
	checked time.Time
	loaded  bool
}

// NewSuppressions builds the cache; it loads on first use.
func NewSuppressions(st *store.Store) *Suppressions {
	return &Suppressions{st: st, refreshEvery: 2 * time.Second}
}

// Refresh re-reads the suppressions when they may have changed.
func (s *Suppressions) Refresh(ctx context.Context) error {
	s.mu.RLock()
	fresh := s.loaded && time.Since(s.checked) < s.refreshEvery
	s.mu.RUnlock()
	if fresh {
		return nil
	}
	state, err := s.st.SuppressionStateNow(ctx)
	if err != nil {
		return err
	}
	s.mu.RLock()
	same := s.loaded && state == s.state
	s.mu.RUnlock()
	var hashes map[uuid.UUID]map[string]bool
	if !same {
		if hashes, err = s.st.SuppressionHashes(ctx); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !same {
		s.hashes, s.state = hashes, state
	}
	s.checked, s.loaded = time.Now(), true
	return nil
}

// Invalidate makes the next Refresh read the table.
func (s *Suppressions) Invalidate() {
	s.mu.Lock()
	s.loaded = false
	s.mu.Unlock()
}

// For returns the check for one workspace, nil-safe and cheap when the
// workspace has no suppressions.
func (s *Suppressions) For(ws uuid.UUID) func(kind, id string) bool {
	s.mu.RLock()
	set := s.hashes[ws]
	s.mu.RUnlock()
	if len(set) == 0 {
		return nil
	}
	return func(kind, id string) bool { return set[HashID(kind, id)] }
}

// Suppressed reports whether an event with these ids must be dropped.
func (s *Suppressions) Suppressed(ws uuid.UUID, userID, anonymousID string) bool {
	return suppressedEvent(s.For(ws), userID, anonymousID, "")
}

// SuppressedEvent reports whether an event carrying these ids must be
// dropped (see suppressedEvent).
func (s *Suppressions) SuppressedEvent(ws uuid.UUID, userID, anonymousID, previousID string) bool {
	return suppressedEvent(s.For(ws), userID, anonymousID, previousID)
}

// suppressedEvent is the one rule, used on every ingest path and by the
// follower: an event is dropped when its userId or an alias's previousId
// (either kind: Segment does not say which it was) is suppressed, or when
// it is anonymous-only and its anonymousId is. An event carrying an erased
// person's anonymousId with another valid userId is that user's (a shared
// device) and is kept; the follower then does not take the suppressed
// anonymous id as an identity again.
func suppressedEvent(check func(kind, id string) bool, userID, anonymousID, previousID string) bool {
	if check == nil {
		return false
	}
	if userID != "" && check(store.IdentityUser, userID) {
		return true
	}
	if previousID != "" && (check(store.IdentityUser, previousID) || check(store.IdentityAnon, previousID)) {
		return true
	}
	return anonymousID != "" && !validID(userID) && check(store.IdentityAnon, anonymousID)
}

// Filter drops the events of suppressed ids from one request before it is
// queued, and says how many it dropped: they are acknowledged (so Segment
// does not retry) and counted as suppressed, not as duplicates. A request
// signed over element 0 only is dropped whole when element 0 is: what
// follows it was not signed. The Gate checks again at commit time for an
// erasure that starts meanwhile.
func (s *Suppressions) Filter(ctx context.Context, events []store.NewEvent, firstNew bool) ([]store.NewEvent, int) {
	if len(events) == 0 {
		return events, 0
	}
	// A failed refresh keeps the last known list; the Gate and the
	// follower check again.
	_ = s.Refresh(ctx)
	check := s.For(events[0].WorkspaceID)
	if check == nil {
		return events, 0
	}
	if firstNew {
		if e := &events[0]; suppressedEvent(check, e.UserID, e.AnonymousID, e.PreviousID) {
			return nil, len(events)
		}
	}
	var keep []store.NewEvent
	dropped := 0
	for i := range events {
		e := &events[i]
		if suppressedEvent(check, e.UserID, e.AnonymousID, e.PreviousID) {
			if keep == nil {
				keep = append(make([]store.NewEvent, 0, len(events)), events[:i]...)
			}
			dropped++
			continue
		}
		if keep != nil {
			keep = append(keep, *e)
		}
	}
	if keep == nil && dropped == 0 {
		return events, 0
	}
	return keep, dropped
}

// Check is SuppressedEvent after a refresh when the cache may be stale (at
// most every refreshEvery, or at once after this instance's erasure): the
// delivery workers call it before each send.
func (s *Suppressions) Check(ctx context.Context, ws uuid.UUID, userID, anonymousID, previousID string) bool {
	_ = s.Refresh(ctx) // on failure the last known list still applies
	return s.SuppressedEvent(ws, userID, anonymousID, previousID)
}
