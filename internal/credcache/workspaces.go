package credcache

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// Workspaces is what the webhook verifies with: workspaces (with their
// secrets) by id, and which one is the default, both cached (see ttlCache).
type Workspaces struct {
	byID *ttlCache[uuid.UUID, store.Workspace]
	// def has one key: the default workspace's id is cached like the rest.
	def *ttlCache[struct{}, uuid.UUID]
}

// NewWorkspaces caches db's workspaces for ttl.
func NewWorkspaces(db *store.Store, ttl time.Duration) *Workspaces {
	return &Workspaces{
		byID: newTTLCache(ttl, db.Workspace),
		def: newTTLCache(ttl, func(ctx context.Context, _ struct{}) (uuid.UUID, error) {
			ws, err := db.DefaultWorkspace(ctx)
			return ws.ID, err
		}),
	}
}

// Invalidate forgets everything, after a workspace or its secret changed.
func (c *Workspaces) Invalidate() {
	c.byID.invalidate()
	c.def.invalidate()
}

// DefaultID returns the id of the default workspace.
func (c *Workspaces) DefaultID(ctx context.Context) (uuid.UUID, error) {
	return c.def.get(ctx, struct{}{})
}

// Workspace returns the workspace or store.ErrNotFound.
func (c *Workspaces) Workspace(ctx context.Context, id uuid.UUID) (store.Workspace, error) {
	return c.byID.get(ctx, id)
}
