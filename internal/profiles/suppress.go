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
	check := s.For(ws)
	if check == nil {
		return false
	}
	return (userID != "" && check(store.IdentityUser, userID)) || (anonymousID != "" && check(store.IdentityAnon, anonymousID))
}
