package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func fromKey(ev store.NewEvent, key string) store.NewEvent {
	ev.Source, ev.SourceKey = "http_api", key
	return ev
}

// Security review item 7: an event from one source never suppresses an
// event from another; retries within a source still dedupe.
func TestDedupeIsPerSource(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		claim := fromKey(newEvent(def.ID, "order-991"), "key-a")
		fresh, err := st.InsertEvents(ctx, []store.NewEvent{claim})
		if err != nil || !fresh[0] {
			t.Fatalf("claim: %v %v", fresh, err)
		}
		fresh, err = st.InsertEvents(ctx, []store.NewEvent{
			newEvent(def.ID, "order-991"),                   // the webhook's genuine event
			fromKey(newEvent(def.ID, "order-991"), "key-b"), // another write key
			fromKey(newEvent(def.ID, "order-991"), "key-a"), // a retry from the claimer
			newEvent(def.ID, "order-991"),                   // the webhook's retry, same call
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, false, false}; fresh[0] != want[0] || fresh[1] != want[1] || fresh[2] != want[2] || fresh[3] != want[3] {
			t.Fatalf("fresh = %v, want %v", fresh, want)
		}
		if n, _ := st.CountEvents(ctx, def.ID); n != 3 {
			t.Fatalf("stored %d, want 3", n)
		}
		// The lookup by message id is deterministic: the first one stored.
		got, err := st.EventByMessageID(ctx, def.ID, "order-991")
		if err != nil || got.Source != "http_api" || got.SourceKey != "key-a" {
			t.Fatalf("EventByMessageID = %+v, %v", got, err)
		}
	})
}

// Security review item 1: a request signed only over element 0 may add
// events only while that element is new.
func TestInsertEventsFirstNew(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		batch := []store.NewEvent{newEvent(def.ID, "e0"), newEvent(def.ID, "e1")}
		fresh, err := st.InsertEventsFirstNew(ctx, batch)
		if err != nil || !fresh[0] || !fresh[1] {
			t.Fatalf("first delivery: %v %v", fresh, err)
		}
		// Segment's retry of the same batch: all duplicates, no error.
		fresh, err = st.InsertEventsFirstNew(ctx, batch)
		if err != nil || fresh[0] || fresh[1] {
			t.Fatalf("retry: %v %v", fresh, err)
		}
		// The captured element 0 with forged events behind it.
		forged := []store.NewEvent{newEvent(def.ID, "e0"), newEvent(def.ID, "e1"), newEvent(def.ID, "forged")}
		if _, err := st.InsertEventsFirstNew(ctx, forged); !errors.Is(err, store.ErrFirstElementStored) {
			t.Fatalf("replayed element 0 with a new event: %v, want ErrFirstElementStored", err)
		}
		if n, _ := st.CountEvents(ctx, def.ID); n != 2 {
			t.Fatalf("stored %d, want 2", n)
		}
	})
}

// Migrations 00010–00012 on a database holding data written under 00009:
// events keep their ids and rows, plaintext secrets (also one that starts
// with "enc:v1:") read back as written, encrypted ones still decrypt.
func TestSecurityMigrationsKeepData(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, other := twoWorkspaces(t, st)
		if err := store.MigrateTo(ctx, st, 9); err != nil {
			t.Fatal(err)
		}
		for _, mid := range []string{"a", "b"} {
			if err := store.ExecRaw(ctx, st, "INSERT INTO events (workspace_id, message_id, type, received_at, source, source_key, raw) VALUES (?, ?, 'track', ?, 'http_api', 'k', '{}')",
				def.ID.String(), mid, "2026-01-02 03:04:05.000000000+00:00"); err != nil {
				t.Fatal(err)
			}
		}
		tricky := "enc:v1:this-is-my-plaintext-secret"
		// The previous secret is in its grace (migration 00015 carries only
		// previous secrets that still verify into workspace_secrets).
		if err := store.ExecRaw(ctx, st, "UPDATE workspaces SET secret = ?, previous_secret = ?, previous_secret_expires_at = ? WHERE id = ?",
			tricky, "plain-old-secret-0123", "2099-01-01 00:00:00.000000000+00:00", def.ID.String()); err != nil {
			t.Fatal(err)
		}
		sealed := store.SealForTest("k", "sealed-secret-0123456")
		if err := store.ExecRaw(ctx, st, "UPDATE workspaces SET secret = ? WHERE id = ?", sealed, other.ID.String()); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ws, err := st.Workspace(ctx, def.ID)
		if err != nil || ws.Secret.Current != tricky || ws.Secret.Previous != "plain-old-secret-0123" {
			t.Fatalf("after migration: %+v %v", ws.Secret, err)
		}
		if ws.FirstElementSignatures {
			t.Fatal("element-0 signatures on by default after migration")
		}
		// Migration 00015 moved each secret, as stored, into workspace_secrets.
		raw, _ := store.QueryString(ctx, st, "SELECT secret FROM workspace_secrets WHERE workspace_id = ? AND expires_at IS NULL", other.ID.String())
		if raw != sealed {
			t.Fatalf("encrypted secret rewritten by the migration: %q", raw)
		}
		if n, _ := st.CountEvents(ctx, def.ID); n != 2 {
			t.Fatalf("events after migration: %d", n)
		}
		// The old unique key is gone, the new one holds.
		fresh, err := st.InsertEvents(ctx, []store.NewEvent{newEvent(def.ID, "a"), fromKey(newEvent(def.ID, "a"), "k")})
		if err != nil || !fresh[0] || fresh[1] {
			t.Fatalf("insert after migration: %v %v", fresh, err)
		}
		// And back down: the first copy of each message id is kept.
		if err := store.MigrateTo(ctx, st, 9); err != nil {
			t.Fatal(err)
		}
		if err := store.ExecRaw(ctx, st, "SELECT 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// Security review item 9: without ENCRYPTION_KEY, a plaintext secret that
// starts with "enc:v1:" is stored and read back as plaintext.
func TestPlaintextSecretLookingEncrypted(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, _ := st.DefaultWorkspace(ctx)
		secret := "enc:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		if err := st.SetSecret(ctx, def.ID, secret, "t", 0); err != nil {
			t.Fatal(err)
		}
		ws, err := st.Workspace(ctx, def.ID)
		if err != nil || ws.Secret.Current != secret {
			t.Fatalf("read back: %q %v", ws.Secret.Current, err)
		}
		if _, err := st.Workspaces(ctx); err != nil {
			t.Fatal(err)
		}
	})
}
