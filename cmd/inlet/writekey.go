package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// writekeyCmd manages the HTTP Tracking API's write keys. create prints only
// the key on stdout, so `KEY=$(inlet writekey create)` works; what a person
// should read goes to stderr.
func writekeyCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("writekey: use `inlet writekey create [--workspace ID] [--name N] [--kind client|server]`, `inlet writekey list [--workspace ID]`, `inlet writekey kind KEY_ID client|server` or `inlet writekey revoke KEY_ID`")
	}
	_, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	fs := flag.NewFlagSet("writekey "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
	switch args[0] {
	case "create":
		name := fs.String("name", "", "a label telling the key's users apart, e.g. backend")
		kind := fs.String("kind", store.WriteKeyClient, "client (in a browser or app: public; its aliases cannot merge two known users) or server (a secret kept on a server: trusted)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if !store.ValidWriteKeyKind(*kind) {
			return fmt.Errorf("writekey create: --kind %q: use client or server", *kind)
		}
		ws, err := pickWorkspace(ctx, st, *wsFlag)
		if err != nil {
			return err
		}
		k, key, err := st.CreateWriteKeyKind(ctx, ws.ID, *name, *kind)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
		fmt.Fprintf(stderr, "%s write key %s created for workspace %s (%s); it is shown only this once\n", k.Kind, k.ID, ws.Name, ws.ID)
		return nil
	case "list":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		ws, err := pickWorkspace(ctx, st, *wsFlag)
		if err != nil {
			return err
		}
		keys, err := st.WriteKeys(ctx, ws.ID)
		if err != nil {
			return err
		}
		printWriteKeys(stdout, keys)
		return nil
	case "kind":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 2 || !store.ValidWriteKeyKind(fs.Arg(1)) {
			return errors.New("writekey kind: give the key's id and client or server, e.g. `inlet writekey kind KEY_ID server`")
		}
		id, err := uuid.Parse(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("writekey kind: %q is not a key id (a UUID)", fs.Arg(0))
		}
		err = forKeyWorkspace(ctx, st, *wsFlag, id, func(ws uuid.UUID) error { return st.SetWriteKeyKind(ctx, ws, id, fs.Arg(1)) })
		if err != nil {
			return fmt.Errorf("writekey kind: %w", err)
		}
		fmt.Fprintf(stdout, "write key %s is now a %s key; running servers use it within 5 seconds, for events sent from then on\n", id, fs.Arg(1))
		return nil
	case "revoke":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return errors.New("writekey revoke: give the key's id (from `inlet writekey list`)")
		}
		id, err := uuid.Parse(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("writekey revoke: %q is not a key id (a UUID)", fs.Arg(0))
		}
		if err := revokeWriteKey(ctx, st, *wsFlag, id); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "write key %s revoked; running servers refuse it within 5 seconds\n", id)
		return nil
	default:
		return fmt.Errorf("writekey: unknown subcommand %q (use create, list or revoke)", args[0])
	}
}

// revokeWriteKey revokes id in the named workspace, or in whichever
// workspace holds it when none is named.
func revokeWriteKey(ctx context.Context, st *store.Store, wsRaw string, id uuid.UUID) error {
	err := forKeyWorkspace(ctx, st, wsRaw, id, func(ws uuid.UUID) error { return st.RevokeWriteKey(ctx, ws, id) })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("writekey revoke: no write key with id %s", id)
	}
	return err
}

// forKeyWorkspace runs fn with the named workspace, or with each workspace
// until one holds the key (fn answers ErrNotFound for the others).
func forKeyWorkspace(ctx context.Context, st *store.Store, wsRaw string, id uuid.UUID, fn func(ws uuid.UUID) error) error {
	var wss []store.Workspace
	if wsRaw != "" {
		ws, err := pickWorkspace(ctx, st, wsRaw)
		if err != nil {
			return err
		}
		wss = []store.Workspace{ws}
	} else {
		var err error
		if wss, err = st.Workspaces(ctx); err != nil {
			return err
		}
	}
	for _, ws := range wss {
		err := fn(ws.ID)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return fmt.Errorf("no write key with id %s: %w", id, store.ErrNotFound)
}

func printWriteKeys(w io.Writer, keys []store.WriteKey) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tKEY\tCREATED\tLAST USED\tSTATUS")
	when := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		state := "active"
		if !k.Active() {
			state = "revoked " + when(k.RevokedAt)
		}
		name := k.Name
		if name == "" {
			name = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, name, k.Kind, k.Prefix, when(&k.CreatedAt), when(k.LastUsedAt), state)
	}
	_ = tw.Flush()
}
