package store

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Every path that writes a time on SQLite must write the one fixed layout:
// the queries compare times as text, and text order is time order only when
// every value has the same shape (the driver's own layout drops trailing
// zeros, so "…05.12+00:00" would sort before the same instant "…05.120000000+00:00").
func TestSQLiteTimesShareOneLayout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := Open(ctx, "", t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ws, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 5, 6, 7, 8, 9, 120000000, time.FixedZone("CEST", 2*3600))
	if err := st.SetSecret(ctx, ws.ID, "s1", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.SetSecret(ctx, ws.ID, "s2", "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertEvents(ctx, []NewEvent{{WorkspaceID: ws.ID, MessageID: "m", Type: "track",
		Timestamp: when, ReceivedAt: when, Source: "webhook", Raw: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateAdmin(ctx, "a@example.com", "hash")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, AdminSession{ID: "s", AdminID: a.ID, Data: "{}", CreatedAt: when, LastSeenAt: when, ExpiresAt: when}); err != nil {
		t.Fatal(err)
	}
	k, _, err := st.CreateWriteKey(ctx, ws.ID, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.TouchWriteKey(ctx, k.ID, when); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeWriteKey(ctx, ws.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveDeliveries(ctx, "layout-batch", []DeliveryAttempt{{WorkspaceID: ws.ID, At: when, Outcome: "accepted", Status: 200}},
		[]DeliveryMinute{{WorkspaceID: uuid.New(), Minute: when, Outcome: "accepted", Requests: 1}}, 10, time.Time{}); err != nil {
		t.Fatal(err)
	}

	layout := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9}\+00:00$`)
	for _, col := range []struct{ table, column string }{
		{"workspaces", "created_at"}, {"workspaces", "updated_at"}, {"workspace_secrets", "set_at"}, {"workspace_secrets WHERE expires_at IS NOT NULL", "expires_at"},
		{"events", "timestamp"}, {"events", "received_at"},
		{"admins", "created_at"}, {"admins", "updated_at"},
		{"admin_sessions", "created_at"}, {"admin_sessions", "last_seen_at"}, {"admin_sessions", "expires_at"},
		{"write_keys", "created_at"}, {"write_keys", "last_used_at"}, {"write_keys", "revoked_at"},
		{"delivery_attempts", "at"}, {"delivery_minutes", "minute"}, {"delivery_batches", "saved_at"},
	} {
		var got []string
		if err := st.db.Raw("SELECT CAST(" + col.column + " AS TEXT) FROM " + col.table).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Errorf("%s.%s: no rows", col.table, col.column)
		}
		for _, v := range got {
			if !layout.MatchString(v) {
				t.Errorf("%s.%s = %q, want the layout %q", col.table, col.column, v, sqliteTime)
			}
		}
	}
	var rec string
	if err := st.db.Raw("SELECT CAST(received_at AS TEXT) FROM events").Scan(&rec).Error; err != nil || rec != "2026-05-06 05:08:09.120000000+00:00" {
		t.Fatalf("received_at stored as %q (%v), want the instant in UTC in the fixed layout", rec, err)
	}
}
