package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestWriteKeysLifecycle(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, other := twoWorkspaces(t, st)
		k, plain, err := st.CreateWriteKey(ctx, def.ID, "  backend  ")
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if len(plain) < 26 || k.Prefix != plain[:store.WriteKeyPrefixLen] || k.Name != "backend" {
			t.Fatalf("key %q, stored %+v", plain, k)
		}
		_, plain2, err := st.CreateWriteKey(ctx, def.ID, "web")
		if err != nil || plain2 == plain {
			t.Fatalf("second key %q (err %v) must differ from the first", plain2, err)
		}

		got, err := st.WriteKeyByHash(ctx, store.HashWriteKey(plain))
		if err != nil || got.ID != k.ID || got.WorkspaceID != def.ID || !got.Active() || got.LastUsedAt != nil {
			t.Fatalf("lookup: %+v, %v", got, err)
		}
		if !got.CreatedAt.Equal(k.CreatedAt) {
			t.Errorf("created_at round trip: stored %v, read %v", k.CreatedAt, got.CreatedAt)
		}
		if _, err := st.WriteKeyByHash(ctx, store.HashWriteKey(plain+"x")); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		if _, err := st.WriteKeyByHash(ctx, plain); !errors.Is(err, store.ErrNotFound) {
			t.Fatal("the plaintext must not be what is stored")
		}

		used := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
		if err := st.TouchWriteKey(ctx, k.ID, used); err != nil {
			t.Fatal(err)
		}
		if err := st.TouchWriteKey(ctx, k.ID, used.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		got, _ = st.WriteKeyByHash(ctx, store.HashWriteKey(plain))
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(used) {
			t.Fatalf("last used must keep the newest time, got %v", got.LastUsedAt)
		}

		if err := st.RevokeWriteKey(ctx, other.ID, k.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoking through another workspace must not work: %v", err)
		}
		if err := st.RevokeWriteKey(ctx, def.ID, uuid.New()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		if err := st.RevokeWriteKey(ctx, def.ID, k.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = st.WriteKeyByHash(ctx, store.HashWriteKey(plain))
		if got.Active() {
			t.Fatal("revoked key still active")
		}
		first := *got.RevokedAt
		if err := st.RevokeWriteKey(ctx, def.ID, k.ID); err != nil {
			t.Fatalf("revoking twice: %v", err)
		}
		got, _ = st.WriteKeyByHash(ctx, store.HashWriteKey(plain))
		if !got.RevokedAt.Equal(first) {
			t.Fatal("a second revoke must keep the first revocation time")
		}

		list, err := st.WriteKeys(ctx, def.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("list: %v, %v", list, err)
		}
		if list[0].Name != "web" || list[1].ID != k.ID {
			t.Fatalf("active keys must come first: %+v", list)
		}
		if list, _ := st.WriteKeys(ctx, other.ID); len(list) != 0 {
			t.Fatalf("other workspace sees %d keys", len(list))
		}
		if _, _, err := st.CreateWriteKey(ctx, uuid.New(), "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("key for a missing workspace: %v", err)
		}
		if _, _, err := st.CreateWriteKey(ctx, def.ID, strings.Repeat("n", store.MaxWriteKeyName+1)); err == nil {
			t.Fatal("an overlong name must be refused")
		}
	})
}
