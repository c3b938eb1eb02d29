package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// token create prints the token alone; export writes NDJSON; profiles
// rebuild recomputes; user delete erases and suppresses.
func TestProfileCommands(t *testing.T) {
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
	for i, u := range []string{"u1", "u1", "u2"} {
		raw, _ := json.Marshal(map[string]any{"type": "identify", "messageId": "m" + string(rune('0'+i)), "userId": u,
			"traits": map[string]any{"n": i}, "timestamp": "2025-01-01T00:00:0" + string(rune('0'+i)) + "Z"})
		evs = append(evs, store.NewEvent{WorkspaceID: ws.ID, MessageID: "m" + string(rune('0'+i)), Type: "identify", UserID: u,
			Timestamp: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC), ReceivedAt: time.Now(), Source: "webhook", Raw: raw})
	}
	if _, err := st.InsertEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}

	out, err := runCLI(t, dbURL, "", "token", "create", "--name", "crm", "--scope", "write")
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSuffix(out, "\n")
	if !strings.HasPrefix(tok, "inlet_") || strings.ContainsAny(tok, " \n") {
		t.Fatalf("token create must print only the token: %q", out)
	}
	if got, err := st.APITokenByHash(ctx, store.HashWriteKey(tok)); err != nil || got.Scope != "write" || got.Name != "crm" {
		t.Fatalf("stored token: %+v %v", got, err)
	}
	if _, err := runCLI(t, dbURL, "", "token", "create", "--scope", "admin"); err == nil {
		t.Error("a bad scope must be refused")
	}

	out, err = runCLI(t, dbURL, "", "export", "--user", "u1")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !json.Valid([]byte(lines[0])) {
		t.Fatalf("export: %q", out)
	}

	out, err = runCLI(t, dbURL, "", "profiles", "rebuild")
	if err != nil || !strings.Contains(out, "3 events applied") {
		t.Fatalf("rebuild: %q %v", out, err)
	}
	if p, err := st.ProfileByIdentity(ctx, ws.ID, store.IdentityUser, "u1"); err != nil || p.EventCount != 2 {
		t.Fatalf("profile after rebuild: %+v %v", p, err)
	}

	out, err = runCLI(t, dbURL, "", "user", "delete", "--user-id", "u1")
	if err != nil || !strings.Contains(out, "2 events deleted, suppressed: true") {
		t.Fatalf("user delete: %q %v", out, err)
	}
	if n, _ := st.CountEvents(ctx, ws.ID); n != 1 {
		t.Fatalf("events left: %d", n)
	}
	if out, err = runCLI(t, dbURL, "", "user", "unsuppress", "--user-id", "u1"); err != nil || !strings.Contains(out, "lifted") {
		t.Fatalf("unsuppress: %q %v", out, err)
	}
}

// audience create/list/show: a refused definition names its fault; a stored
// one is listed (building until a server builds it) and shown as JSON.
func TestAudienceCommands(t *testing.T) {
	t.Parallel()
	dbURL := testdb.PostgresURL(t)
	if _, err := runCLI(t, dbURL, "", "migrate"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := dir + "/bad.json"
	good := dir + "/good.json"
	if err := os.WriteFile(bad, []byte(`{"key":"pro","name":"Pro","condition":{"performed":{"event":"E","within":"9y"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte(`{"key":"pro","name":"Pro users","condition":{"trait":"plan","op":"eq","value":"pro"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runCLI(t, dbURL, "", "audience", "create", "--file", bad); err == nil || !strings.Contains(err.Error(), "condition.performed.within") {
		t.Fatalf("bad definition: %v", err)
	}
	if out, err := runCLI(t, dbURL, "", "audience", "create", "--file", good); err != nil || !strings.Contains(out, "audience pro created (version 1)") {
		t.Fatalf("create: %q %v", out, err)
	}
	out, err := runCLI(t, dbURL, "", "audience", "list")
	if err != nil || !strings.Contains(out, "pro") || !strings.Contains(out, "Pro users") || !strings.Contains(out, "building") {
		t.Fatalf("list: %q %v", out, err)
	}
	out, err = runCLI(t, dbURL, "", "audience", "show", "pro")
	var shown map[string]any
	if err != nil || json.Unmarshal([]byte(out), &shown) != nil || shown["key"] != "pro" || shown["version"] != float64(1) {
		t.Fatalf("show: %q %v", out, err)
	}
	if _, err := runCLI(t, dbURL, "", "audience", "show", "nope"); err == nil {
		t.Fatal("show of a missing audience succeeded")
	}
}
