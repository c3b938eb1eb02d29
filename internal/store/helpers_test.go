package store_test

import (
	"context"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
)

// twoWorkspaces returns the default workspace and a second one, for tests
// that prove one workspace's rows never show in the other.
func twoWorkspaces(t *testing.T, st *store.Store) (def, other store.Workspace) {
	t.Helper()
	ctx := context.Background()
	def, err := st.DefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	other, err = st.CreateWorkspace(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	return def, other
}
