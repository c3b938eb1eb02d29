package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func verifying(t *testing.T, st *store.Store, at time.Time) []string {
	t.Helper()
	ws, err := st.DefaultWorkspace(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ws.Secret.Valid(at)
}

// Issue 13 item 1: saving B then C keeps A verifying until A's own grace
// ends; at most MaxSecrets verify at once; each can be revoked.
func TestEverySecretSavedWithinGraceKeepsVerifying(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		a, b, c, d := "secret-a-0123456789abcdef", "secret-b-0123456789abcdef", "secret-c-0123456789abcdef", "secret-d-0123456789abcdef"
		for _, sec := range []string{a, b, c} {
			if err := st.SetSecret(ctx, def.ID, sec, "ops@example.com", time.Hour); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		if got := verifying(t, st, now); !slices.Equal(got, []string{c, b, a}) {
			t.Fatalf("after A, B, C: verifying %q, want C, B, A", got)
		}
		if got := verifying(t, st, now.Add(2*time.Hour)); !slices.Equal(got, []string{c}) {
			t.Fatalf("after every grace: verifying %q, want only C", got)
		}
		ws, _ := st.DefaultWorkspace(ctx)
		labels := []string{}
		for _, v := range ws.Secret.Verifying(now) {
			labels = append(labels, v.Label)
		}
		if !slices.Equal(labels, []string{"current …cdef", "previous …cdef", "previous …cdef"}) {
			t.Errorf("labels %q", labels)
		}
		if ws.Secret.SetBy != "ops@example.com" || ws.Secret.Previous != b || len(ws.Secret.PreviousSecrets) != 2 {
			t.Errorf("secret info %+v", ws.Secret)
		}

		// A fourth save drops the oldest previous one (A): at most 3 verify.
		if err := st.SetSecret(ctx, def.ID, d, "cli", time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := verifying(t, st, time.Now()); !slices.Equal(got, []string{d, c, b}) {
			t.Fatalf("after D: verifying %q, want D, C, B (at most %d)", got, store.MaxSecrets)
		}

		// Revoke one previous secret (B) by id; C still verifies.
		ws, _ = st.DefaultWorkspace(ctx)
		var bID int64
		for _, p := range ws.Secret.PreviousSecrets {
			if p.Secret == b {
				bID = p.ID
			}
		}
		if err := st.RevokeSecret(ctx, def.ID, bID); err != nil {
			t.Fatal(err)
		}
		if got := verifying(t, st, time.Now()); !slices.Equal(got, []string{d, c}) {
			t.Fatalf("after revoking B: %q", got)
		}
		if err := st.RevokeSecret(ctx, def.ID, bID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking B twice: %v", err)
		}
		// Saving the current secret again retires nothing.
		if err := st.SetSecret(ctx, def.ID, d, "cli", time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := verifying(t, st, time.Now()); !slices.Equal(got, []string{d, c}) {
			t.Fatalf("after saving D again: %q", got)
		}
		if err := st.RevokePreviousSecret(ctx, def.ID); err != nil {
			t.Fatal(err)
		}
		if got := verifying(t, st, time.Now()); !slices.Equal(got, []string{d}) {
			t.Fatalf("after revoking every previous one: %q", got)
		}
		if err := st.ClearSecret(ctx, def.ID); err != nil {
			t.Fatal(err)
		}
		if got := verifying(t, st, time.Now()); len(got) != 0 {
			t.Fatalf("after clearing: %q", got)
		}
	})
}

func TestSecretTailNeverShowsMoreThanAQuarter(t *testing.T) {
	t.Parallel()
	for secret, want := range map[string]string{
		"0123456789abcdef0123": "0123", "0123456789abcdef": "cdef", "01234567": "67", "abc": "", "": "",
	} {
		if got := store.SecretTail(secret); got != want {
			t.Errorf("SecretTail(%q) = %q, want %q", secret, got, want)
		}
	}
}

// The migration moves the current and the previous secret of the old
// columns into workspace_secrets and leaves no copy behind.
func TestMigrationMovesExistingSecrets(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.MigrateDownTo(ctx, 14); err != nil {
			t.Fatal(err)
		}
		setAt := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
		if err := st.ExecForTest(ctx, `UPDATE workspaces SET secret = ?, secret_set_at = ?, secret_set_by = ?,
			previous_secret = ?, previous_secret_expires_at = ? WHERE is_default`,
			"old-current-0123456789", setAt, "ops@example.com", "old-previous-0123456789", exp); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		ws, err := st.DefaultWorkspace(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s := ws.Secret
		if s.Current != "old-current-0123456789" || s.SetBy != "ops@example.com" || s.SetAt == nil || !s.SetAt.Equal(setAt) {
			t.Errorf("current after migration: %+v", s)
		}
		if len(s.PreviousSecrets) != 1 || s.PreviousSecrets[0].Secret != "old-previous-0123456789" || !s.PreviousSecrets[0].ExpiresAt.Equal(exp) {
			t.Errorf("previous after migration: %+v", s.PreviousSecrets)
		}
		for _, col := range []string{"secret", "previous_secret"} {
			if v, err := st.RawForTest(ctx, "SELECT "+col+" FROM workspaces WHERE is_default"); err != nil || v != "" {
				t.Errorf("workspaces.%s still holds %q (%v)", col, v, err)
			}
		}
		// And back: the down migration restores the columns.
		if err := st.MigrateDownTo(ctx, 14); err != nil {
			t.Fatal(err)
		}
		for col, want := range map[string]string{"secret": "old-current-0123456789", "previous_secret": "old-previous-0123456789"} {
			if v, err := st.RawForTest(ctx, "SELECT "+col+" FROM workspaces WHERE is_default"); err != nil || v != want {
				t.Errorf("down: workspaces.%s = %q (%v), want %q", col, v, err, want)
			}
		}
	})
}
