package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestSessionsAndPasswordReset(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, err := st.CreateAdmin(ctx, " Ann@Example.com ", "old")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateAdmin(ctx, "ann@example.com", "x"); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("second admin with the same email: %v, want ErrConflict", err)
		}
		if n, err := st.CountAdmins(ctx); err != nil || n != 1 {
			t.Fatalf("CountAdmins = %d, %v", n, err)
		}
		base := time.Date(2026, 2, 3, 4, 5, 6, 789000, time.UTC)
		for i, id := range []string{"idle", "ended", "live"} {
			s := store.AdminSession{ID: id, AdminID: a.ID, Data: "{}", CreatedAt: base,
				LastSeenAt: base.Add(time.Duration(i) * time.Minute), ExpiresAt: base.Add(time.Hour)}
			if id == "ended" {
				s.ExpiresAt = base.Add(2 * time.Minute)
			}
			if err := st.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.Session(ctx, "live")
		if err != nil {
			t.Fatal(err)
		}
		if got.AdminID != a.ID || !got.CreatedAt.Equal(base) || !got.LastSeenAt.Equal(base.Add(2*time.Minute)) || !got.ExpiresAt.Equal(base.Add(time.Hour)) {
			t.Fatalf("session read back as %+v", got)
		}
		if err := st.UpdateSession(ctx, "live", `{"k":1}`, base.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := st.UpdateSession(ctx, "gone", "{}", base); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a missing session: %v, want ErrNotFound", err)
		}
		// At base+2m: "ended" reached its end exactly (not before), "idle"
		// was last seen before the idle limit base+30s.
		n, err := st.DeleteSessionsBefore(ctx, base.Add(2*time.Minute+time.Microsecond), base.Add(30*time.Second))
		if err != nil || n != 2 {
			t.Fatalf("DeleteSessionsBefore removed %d (%v), want 2", n, err)
		}
		if got, err := st.Session(ctx, "live"); err != nil || got.Data != `{"k":1}` || !got.LastSeenAt.Equal(base.Add(30*time.Minute)) {
			t.Fatalf("live session after update and sweep: %+v %v", got, err)
		}
		if err := st.SetAdminPassword(ctx, "ANN@example.com", "new"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Session(ctx, "live"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session after password reset: %v, want ErrNotFound", err)
		}
		if got, err := st.AdminByEmail(ctx, "ann@example.com"); err != nil || got.PasswordHash != "new" || got.ID != a.ID {
			t.Fatalf("admin after reset: %+v %v", got, err)
		}
		if err := st.SetAdminPassword(ctx, "nobody@example.com", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("reset of an unknown admin: %v, want ErrNotFound", err)
		}
		if err := st.DeleteSession(ctx, "never-was"); err != nil {
			t.Fatalf("deleting a missing session: %v", err)
		}
	})
}

func TestDeleteEventsBeforeTakesOldestFirst(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		def, other := twoWorkspaces(t, st)
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var evs []store.NewEvent
		for i := range 10 {
			e := newEvent(def.ID, "old-"+string(rune('a'+i)))
			e.ReceivedAt = base.Add(time.Duration(i) * time.Second)
			evs = append(evs, e)
		}
		keep := newEvent(other.ID, "other-old")
		keep.ReceivedAt = base
		evs = append(evs, keep)
		if _, err := st.InsertEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		// The cutoff is exclusive: the event received exactly at base+6s stays.
		cutoff := base.Add(6 * time.Second)
		n, err := st.DeleteEventsBefore(ctx, def.ID, cutoff, 4)
		if err != nil || n != 4 {
			t.Fatalf("first batch deleted %d (%v), want 4", n, err)
		}
		if _, err := st.EventByMessageID(ctx, def.ID, "old-e"); err != nil {
			t.Fatalf("the fifth oldest went in the first batch of four: %v", err)
		}
		if n, err = st.DeleteEventsBefore(ctx, def.ID, cutoff, 4); err != nil || n != 2 {
			t.Fatalf("second batch deleted %d (%v), want 2", n, err)
		}
		if c, _ := st.CountEvents(ctx, def.ID); c != 4 {
			t.Fatalf("%d events left, want 4", c)
		}
		if c, _ := st.CountEvents(ctx, other.ID); c != 1 {
			t.Fatalf("the other workspace lost its event: %d left", c)
		}
		ids, err := st.WorkspaceIDs(ctx)
		if err != nil || len(ids) != 2 {
			t.Fatalf("WorkspaceIDs = %v, %v", ids, err)
		}
	})
}
