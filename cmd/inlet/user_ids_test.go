package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// `inlet user` takes ids exactly as given (any characters) and erases by
// anonymous id too; `inlet token create --expires` sets an expiry that
// `token list` shows.
func TestUserCommandsTakeAnyIDAndTokensExpire(t *testing.T) {
	t.Parallel()
	dbURL := testdb.PostgresURL(t)
	ctx := context.Background()
	if _, err := runCLI(t, dbURL, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, dbURL, "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ws, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var evs []store.NewEvent
	for i, ids := range [][2]string{{"a/b", ""}, {"a", ""}, {"a%2Fb", ""}, {"", "anon/ü 1"}} {
		m := map[string]any{"type": "track", "event": "E", "messageId": fmt.Sprint("m", i)}
		if ids[0] != "" {
			m["userId"] = ids[0]
		} else {
			m["anonymousId"] = ids[1]
		}
		raw, _ := json.Marshal(m)
		evs = append(evs, store.NewEvent{WorkspaceID: ws.ID, MessageID: fmt.Sprint("m", i), Type: "track", Event: "E", UserID: ids[0],
			AnonymousID: ids[1], ReceivedAt: time.Now(), Source: "webhook", Raw: raw})
	}
	if _, err := st.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, dbURL, "", "profiles", "rebuild"); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, dbURL, "", "user", "delete", "--user-id", "a/b")
	if err != nil || !strings.Contains(out, "1 events deleted") {
		t.Fatalf("user delete a/b: %q %v", out, err)
	}
	for _, id := range []string{"a", "a%2Fb"} {
		if _, err := st.ProfileByIdentity(ctx, ws.ID, store.IdentityUser, id); err != nil {
			t.Errorf("%q after erasing a/b: %v", id, err)
		}
	}
	out, err = runCLI(t, dbURL, "", "user", "delete", "--anonymous-id", "anon/ü 1")
	if err != nil || !strings.Contains(out, "1 events deleted") {
		t.Fatalf("user delete --anonymous-id: %q %v", out, err)
	}
	if n, _ := st.CountEvents(ctx, ws.ID); n != 2 {
		t.Errorf("events left: %d, want 2", n)
	}
	if out, err := runCLI(t, dbURL, "", "user", "unsuppress", "--anonymous-id", "anon/ü 1"); err != nil || !strings.Contains(out, "lifted") {
		t.Errorf("unsuppress --anonymous-id: %q %v", out, err)
	}
	if _, err := runCLI(t, dbURL, "", "user", "delete", "--user-id", "a", "--anonymous-id", "x"); err == nil {
		t.Error("both --user-id and --anonymous-id must be refused")
	}

	out, err = runCLI(t, dbURL, "", "token", "create", "--name", "ninety", "--expires", "90d")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := st.APITokenByHash(ctx, store.HashWriteKey(strings.TrimSpace(out)))
	if err != nil || tok.ExpiresAt == nil || tok.ExpiresAt.Sub(time.Now().Add(90*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("--expires 90d: %+v %v", tok, err)
	}
	for _, bad := range []string{"2020-01-01", "soon", "0d", "-5h"} {
		if _, err := runCLI(t, dbURL, "", "token", "create", "--expires", bad); err == nil {
			t.Errorf("--expires %s was taken", bad)
		}
	}
	out, err = runCLI(t, dbURL, "", "token", "list")
	if err != nil || !strings.Contains(out, "EXPIRES") || !strings.Contains(out, tok.ExpiresAt.UTC().Format(time.RFC3339)) {
		t.Errorf("token list: %q %v", out, err)
	}
}
