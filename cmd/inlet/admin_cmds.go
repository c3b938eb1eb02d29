package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/inlet-dev/inlet/internal/segment"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/store"
)

func migrateCmd(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "up" && sub != "status" {
		return fmt.Errorf("migrate: unknown subcommand %q (use up or status; `inlet migrate --help`)", sub)
	}
	_, st, err := openCommandStore(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "up":
		applied, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "database is up to date")
		}
		for _, m := range applied {
			fmt.Fprintln(stdout, "applied", m)
		}
		return nil
	case "status":
		states, err := st.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s database at %s\n", st.Dialect(), st.Where())
		for _, m := range states {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-8s %05d %s\n", state, m.Version, m.Name)
		}
		return nil
	default:
		return fmt.Errorf("migrate: unknown subcommand %q (use up or status)", sub)
	}
}

// openCommandStore opens the store for a command other than serve: it says
// which store it uses and never creates a new SQLite file without --init.
func openCommandStore(ctx context.Context, getenv func(string) string) (*config.Config, *store.Store, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, nil, fmt.Errorf("configuration:\n%w", err)
	}
	if err := prepareCommandStore(ctx, cfg); err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir, store.Options{EncryptionKey: cfg.EncryptionKey})
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

// openForCommand is the start of every admin subcommand: configuration,
// store, and the schema brought up to date. The caller closes the store.
func openForCommand(ctx context.Context, getenv func(string) string) (*config.Config, *store.Store, error) {
	cfg, st, err := openCommandStore(ctx, getenv)
	if err != nil {
		return nil, nil, err
	}
	// Never waits for the database (DATABASE_WAIT is serve's): a script
	// learns at once that it is down.
	log := newLogger(cfg, io.Discard)
	if err := migrate(ctx, st, log); err != nil {
		st.Close()
		return nil, nil, err
	}
	return cfg, st, nil
}

// openForWorkspace is openForCommand plus the workspace --workspace names
// (the default one when empty): the start of every per-workspace command.
// The caller closes the store.
func openForWorkspace(ctx context.Context, getenv func(string) string, wsFlag string) (*config.Config, *store.Store, store.Workspace, error) {
	cfg, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return nil, nil, store.Workspace{}, err
	}
	ws, err := pickWorkspace(ctx, st, wsFlag)
	if err != nil {
		st.Close()
		return nil, nil, store.Workspace{}, err
	}
	return cfg, st, ws, nil
}

func secretCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("secret: use `inlet secret set [--workspace ID]` or `inlet secret encrypt`")
	}
	cfg, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "set":
		fs := flag.NewFlagSet("secret set", flag.ContinueOnError)
		wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		ws, err := pickWorkspace(ctx, st, *wsFlag)
		if err != nil {
			return err
		}
		secret, err := readSecret(stdin)
		if err != nil {
			return err
		}
		if err := segment.ValidateSecret(secret); err != nil {
			return fmt.Errorf("secret set: %w", err)
		}
		// Same rotation as the dashboard: the replaced secret keeps verifying
		// for SECRET_ROTATION_GRACE so Segment's side can be changed afterwards.
		if err := st.SetSecret(ctx, ws.ID, secret, "cli", cfg.SecretGrace); err != nil {
			return fmt.Errorf("save secret: %w", err)
		}
		fmt.Fprintf(stdout, "shared secret saved for workspace %s (%s), ending in …%s\n", ws.Name, ws.ID, store.SecretTail(secret))
		fmt.Fprintln(stdout, "running Inlet servers on this database apply it within 2 s (each re-reads secrets every second); no restart needed")
		if ws.Secret.IsSet() && ws.Secret.Current != secret {
			fmt.Fprintf(stdout, "the secret it replaces keeps verifying for %s (at most %d secrets verify at once; the oldest previous one is dropped first)\n",
				cfg.SecretGrace, store.MaxSecrets)
		}
		return nil
	case "encrypt":
		n, err := st.EncryptSecrets(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "encrypted the secrets of %d workspace(s)\n", n)
		return nil
	default:
		return fmt.Errorf("secret: unknown subcommand %q", args[0])
	}
}

func pickWorkspace(ctx context.Context, st *store.Store, raw string) (store.Workspace, error) {
	if raw == "" {
		return st.EnsureDefaultWorkspace(ctx)
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return store.Workspace{}, fmt.Errorf("--workspace: %q is not a workspace id (a UUID)", raw)
	}
	ws, err := st.Workspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, fmt.Errorf("--workspace: no workspace with id %s", id)
	}
	return ws, err
}

// readSecret takes the first line of stdin, so `echo secret | inlet secret set`
// and a here-string both work; surrounding whitespace is never part of a secret.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read secret from stdin: %w", err)
	}
	secret := strings.TrimSpace(line)
	if secret == "" {
		return "", errors.New("no secret on stdin: try `printf %s \"$SECRET\" | inlet secret set`")
	}
	if len(secret) > 1024 {
		return "", errors.New("secret is longer than 1024 characters")
	}
	return secret, nil
}
