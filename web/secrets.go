package web

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// secretCache is what the webhook verifies with: workspaces (with their
// secrets) by id, and which one is the default, both cached (see ttlCache).
type secretCache struct {
	byID *ttlCache[uuid.UUID, store.Workspace]
	// def has one key: the default workspace's id is cached like the rest.
	def *ttlCache[struct{}, uuid.UUID]
}

func newSecretCache(db *store.Store, ttl time.Duration) *secretCache {
	return &secretCache{
		byID: newTTLCache(ttl, db.Workspace),
		def: newTTLCache(ttl, func(ctx context.Context, _ struct{}) (uuid.UUID, error) {
			ws, err := db.DefaultWorkspace(ctx)
			return ws.ID, err
		}),
	}
}

func (c *secretCache) invalidate() {
	c.byID.invalidate()
	c.def.invalidate()
}

// defaultWorkspaceID returns the id of the default workspace.
func (c *secretCache) defaultWorkspaceID(ctx context.Context) (uuid.UUID, error) {
	return c.def.get(ctx, struct{}{})
}

// workspace returns the workspace or store.ErrNotFound.
func (c *secretCache) workspace(ctx context.Context, id uuid.UUID) (store.Workspace, error) {
	return c.byID.get(ctx, id)
}
