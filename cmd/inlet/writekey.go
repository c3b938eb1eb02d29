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
		return errors.New("writekey: use `inlet writekey create [--workspace ID] [--name N]`, `inlet writekey list [--workspace ID]` or `inlet writekey revoke KEY_ID`")
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
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		ws, err := pickWorkspace(ctx, st, *wsFlag)
		if err != nil {
			return err
		}
		k, key, err := st.CreateWriteKey(ctx, ws.ID, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, key)
		fmt.Fprintf(stderr, "write key %s created for workspace %s (%s); it is shown only this once\n", k.ID, ws.Name, ws.ID)
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
		err := st.RevokeWriteKey(ctx, ws.ID, id)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return fmt.Errorf("writekey revoke: no write key with id %s", id)
}

func printWriteKeys(w io.Writer, keys []store.WriteKey) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKEY\tCREATED\tLAST USED\tSTATUS")
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
		fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, name, k.Prefix, when(&k.CreatedAt), when(k.LastUsedAt), state)
	}
	_ = tw.Flush()
}
