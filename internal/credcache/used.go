package credcache

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
)

// touchEvery throttles last_used_at writes to one per credential per
// minute: the dashboard shows it to the minute, and the hot path must not
// write per call.
const touchEvery = time.Minute

// usedThrottle records "last used" for one kind of credential (write keys,
// API tokens): at most once per touchEvery per id, in the background so the
// caller never waits on it.
type usedThrottle struct {
	what  string // for the log: "write key", "API token"
	write func(ctx context.Context, id uuid.UUID, at time.Time) error
	log   *slog.Logger

	mu      sync.Mutex
	touched map[uuid.UUID]time.Time // when last_used_at was last written
}

func newUsedThrottle(what string, write func(context.Context, uuid.UUID, time.Time) error, log *slog.Logger) *usedThrottle {
	if log == nil {
		log = slog.Default()
	}
	return &usedThrottle{what: what, write: write, log: log, touched: map[uuid.UUID]time.Time{}}
}

// mark notes a successful call with credential id at at.
func (u *usedThrottle) mark(id uuid.UUID, at time.Time) {
	u.mu.Lock()
	last, ok := u.touched[id]
	if ok && at.Sub(last) < touchEvery {
		u.mu.Unlock()
		return
	}
	if len(u.touched) >= maxCacheEntries {
		u.touched = map[uuid.UUID]time.Time{}
	}
	u.touched[id] = at
	u.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := u.write(ctx, id, at); err != nil {
			// Only the dashboard's "last used" is late; the next call retries.
			u.log.Debug(u.what+" last-used update failed", "id", id, "err", err)
			u.mu.Lock()
			if u.touched[id].Equal(at) {
				delete(u.touched, id)
			}
			u.mu.Unlock()
		}
	}()
}
