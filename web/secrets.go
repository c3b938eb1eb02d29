package web

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// secretCache keeps workspaces (with their secrets) in memory so the hot path
// does not query the database per request. Entries live for ttl, so a secret
// saved by another instance is seen within seconds; this instance's own
// settings changes call invalidate and are seen at once.
type secretCache struct {
	db  *store.Store
	ttl time.Duration

	mu        sync.Mutex
	entries   map[uuid.UUID]cachedWorkspace
	defaultID uuid.UUID
	defaultAt time.Time
}

// lookupTimeout bounds a cache refresh so that, with the ingester's own
// timeout, an answer always leaves before Segment's 5 s deadline.
const lookupTimeout = time.Second

type cachedWorkspace struct {
	ws      store.Workspace
	missing bool
	at      time.Time
}

func newSecretCache(db *store.Store, ttl time.Duration) *secretCache {
	return &secretCache{db: db, ttl: ttl, entries: map[uuid.UUID]cachedWorkspace{}}
}

func (c *secretCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[uuid.UUID]cachedWorkspace{}
	c.defaultAt = time.Time{}
}

// defaultWorkspaceID returns the id of the default workspace.
func (c *secretCache) defaultWorkspaceID(ctx context.Context) (uuid.UUID, error) {
	c.mu.Lock()
	if !c.defaultAt.IsZero() && time.Since(c.defaultAt) < c.ttl {
		id := c.defaultID
		c.mu.Unlock()
		return id, nil
	}
	stale, known := c.defaultID, !c.defaultAt.IsZero()
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	ws, err := c.db.DefaultWorkspace(ctx)
	if err != nil {
		if known {
			return stale, nil
		}
		return uuid.Nil, err
	}
	c.mu.Lock()
	c.defaultID, c.defaultAt = ws.ID, time.Now()
	c.entries[ws.ID] = cachedWorkspace{ws: ws, at: time.Now()}
	c.mu.Unlock()
	return ws.ID, nil
}

// workspace returns the workspace or store.ErrNotFound.
func (c *secretCache) workspace(ctx context.Context, id uuid.UUID) (store.Workspace, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	c.mu.Unlock()
	if ok && time.Since(e.at) < c.ttl {
		if e.missing {
			return store.Workspace{}, store.ErrNotFound
		}
		return e.ws, nil
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	ws, err := c.db.Workspace(lctx, id)
	if err != nil && err != store.ErrNotFound && ok {
		// The database is down or slow: keep verifying with what we knew, so
		// the request fails (503) in the ingester within Segment's 5 s, not here.
		if e.missing {
			return store.Workspace{}, store.ErrNotFound
		}
		return e.ws, nil
	}
	switch {
	case err == nil:
		c.put(id, cachedWorkspace{ws: ws, at: time.Now()})
	case err == store.ErrNotFound:
		// Remember unknown ids too, so a flood of them costs no queries.
		c.put(id, cachedWorkspace{missing: true, at: time.Now()})
	}
	return ws, err
}

func (c *secretCache) put(id uuid.UUID, e cachedWorkspace) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) > 10000 {
		c.entries = map[uuid.UUID]cachedWorkspace{}
	}
	c.entries[id] = e
}
