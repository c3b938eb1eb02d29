package main

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestWriteKeyCommands(t *testing.T) {
	t.Parallel()
	dbURL := testdb.PostgresURL(t)
	ctx := context.Background()

	out, err := runCLI(t, dbURL, "", "writekey", "create", "--name", "backend")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	key := strings.TrimSuffix(out, "\n")
	if key == "" || strings.ContainsAny(key, " \n\t") {
		t.Fatalf("create must print only the key, printed %q", out)
	}

	st, err := store.Open(ctx, dbURL, "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := st.WriteKeyByHash(ctx, store.HashWriteKey(key))
	if err != nil || !k.Active() || k.Name != "backend" {
		t.Fatalf("the printed key is not a stored active key: %+v %v", k, err)
	}

	out, err = runCLI(t, dbURL, "", "writekey", "list")
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !strings.Contains(out, k.ID.String()) || !strings.Contains(out, key[:6]+"…") || strings.Contains(out, key) {
		t.Fatalf("list must show the id and prefix, never the key:\n%s", out)
	}

	if out, err = runCLI(t, dbURL, "", "writekey", "revoke", k.ID.String()); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %q %v", out, err)
	}
	if k, _ = st.WriteKeyByHash(ctx, store.HashWriteKey(key)); k.Active() {
		t.Fatal("revoked key still active")
	}
	if out, _ = runCLI(t, dbURL, "", "writekey", "list"); !strings.Contains(out, "revoked") {
		t.Fatalf("list after revoke:\n%s", out)
	}

	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no subcommand":     {[]string{"writekey"}, "writekey create"},
		"unknown":           {[]string{"writekey", "rotate"}, "unknown subcommand"},
		"revoke without id": {[]string{"writekey", "revoke"}, "give the key's id"},
		"revoke bad id":     {[]string{"writekey", "revoke", "abc"}, "not a key id"},
		"revoke unknown":    {[]string{"writekey", "revoke", uuid.NewString()}, "no write key"},
		"bad workspace":     {[]string{"writekey", "create", "--workspace", "nope"}, "--workspace"},
		"missing workspace": {[]string{"writekey", "list", "--workspace", uuid.NewString()}, "no workspace"},
		"long name":         {[]string{"writekey", "create", "--name", strings.Repeat("n", 101)}, "longer than"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := runCLI(t, dbURL, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// A key's kind: client by default, server when asked, changeable, shown
// in the list; anything else refused.
func TestWriteKeyKinds(t *testing.T) {
	t.Parallel()
	dbURL := testdb.PostgresURL(t)
	ctx := context.Background()
	st, err := store.Open(ctx, dbURL, "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	kindOf := func(key string) store.WriteKey {
		t.Helper()
		k, err := st.WriteKeyByHash(ctx, store.HashWriteKey(strings.TrimSpace(key)))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	out, err := runCLI(t, dbURL, "", "writekey", "create", "--name", "browser")
	if err != nil || kindOf(out).Kind != store.WriteKeyClient {
		t.Fatalf("default kind: %v %+v", err, kindOf(out))
	}
	out, err = runCLI(t, dbURL, "", "writekey", "create", "--name", "backend", "--kind", "server")
	if err != nil {
		t.Fatal(err)
	}
	server := kindOf(out)
	if server.Kind != store.WriteKeyServer {
		t.Fatalf("--kind server made a %q key", server.Kind)
	}
	list, err := runCLI(t, dbURL, "", "writekey", "list")
	if err != nil || !strings.Contains(list, "KIND") || !strings.Contains(list, "server") || !strings.Contains(list, "client") {
		t.Fatalf("list shows no kinds: %v\n%s", err, list)
	}
	if out, err := runCLI(t, dbURL, "", "writekey", "kind", server.ID.String(), "client"); err != nil || !strings.Contains(out, "client") {
		t.Fatalf("kind: %q %v", out, err)
	}
	keys, err := st.WriteKeys(ctx, server.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == server.ID && k.Kind != store.WriteKeyClient {
			t.Errorf("after writekey kind: %q", k.Kind)
		}
	}
	for name, args := range map[string][]string{
		"create bad kind": {"writekey", "create", "--kind", "public"},
		"kind bad kind":   {"writekey", "kind", server.ID.String(), "admin"},
		"kind no args":    {"writekey", "kind"},
		"kind unknown":    {"writekey", "kind", uuid.NewString(), "server"},
	} {
		if _, err := runCLI(t, dbURL, "", args...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
