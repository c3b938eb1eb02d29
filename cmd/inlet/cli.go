package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/inlet-dev/inlet/internal/config"
)

// cliOptions are what run learns for every command that opens the database:
// whether it may create a new embedded one (--init) and where to say which
// store it uses. They travel in the context so the command functions keep
// their signatures (every engineer adds commands; see usage.go).
type cliOptions struct {
	init   bool
	stderr io.Writer
}

type cliOptionsKey struct{}

func withCLIOptions(ctx context.Context, o cliOptions) context.Context {
	return context.WithValue(ctx, cliOptionsKey{}, o)
}

func cliOptionsFrom(ctx context.Context) cliOptions {
	o, _ := ctx.Value(cliOptionsKey{}).(cliOptions)
	if o.stderr == nil {
		o.stderr = io.Discard
	}
	return o
}

// takeInit removes --init from args wherever it is (before "--").
func takeInit(args []string) ([]string, bool) {
	out := make([]string, 0, len(args))
	found := false
	for i, a := range args {
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if a == "--init" || a == "-init" {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// prepareCommandStore is the check every command but serve makes before
// opening the database: it says which store it uses, and refuses to create
// a new SQLite file where none exists (a command run from another folder
// would otherwise "succeed" into a database no server reads).
func prepareCommandStore(ctx context.Context, cfg *config.Config) error {
	o := cliOptionsFrom(ctx)
	if !cfg.UsesEmbedded() {
		fmt.Fprintf(o.stderr, "inlet: using %s\n", cfg.StoreDescription())
		return nil
	}
	// "using" is said only of a database that is there (or --init makes),
	// never just before saying there is none.
	path := cfg.SQLitePath()
	_, err := os.Stat(path)
	switch {
	case err == nil:
		fmt.Fprintf(o.stderr, "inlet: using %s\n", cfg.StoreDescription())
		return checkDataDir(cfg)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot read the SQLite database %s: %w", path, err)
	case !o.init:
		wd, _ := os.Getwd()
		return fmt.Errorf("no Inlet database at %s (DATA_DIR=%s, run from %s). "+
			"Run the command from the folder Inlet runs in, set DATA_DIR to the folder holding inlet.db or DATABASE_URL to your PostgreSQL database; "+
			"or add --init to create a new, empty database there", path, cfg.DataDir, wd)
	}
	fmt.Fprintf(o.stderr, "inlet: --init: creating a new SQLite database at %s\n", path)
	return checkDataDir(cfg)
}

// checkDataDir makes sure the embedded database's folder exists and can be
// written before SQLite tries: SQLite reports a read-only folder as
// "out of memory (14)", which sends people the wrong way.
func checkDataDir(cfg *config.Config) error {
	if !cfg.UsesEmbedded() {
		return nil
	}
	dir := filepath.Dir(cfg.SQLitePath())
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("DATA_DIR %s: cannot create the folder (%w); create it, or set DATA_DIR to a folder this user (uid %d) can write",
			dir, unwrapPathError(err), os.Getuid())
	}
	probe, err := os.CreateTemp(dir, ".inlet-write-check-*")
	if err != nil {
		return fmt.Errorf("DATA_DIR %s is not writable by this user (uid %d): %w. SQLite needs to write the database and its journal there: "+
			"make the folder writable (e.g. chown %d %s), or set DATA_DIR to a writable folder", dir, os.Getuid(), unwrapPathError(err), os.Getuid(), dir)
	}
	name := probe.Name()
	probe.Close()
	os.Remove(name)
	path := cfg.SQLitePath()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("the SQLite database %s cannot be opened for writing by this user (uid %d): %w. Make it writable (e.g. chown %d %s)",
			path, os.Getuid(), unwrapPathError(err), os.Getuid(), path)
	}
	return f.Close()
}

// unwrapPathError drops the path a *PathError repeats, since the message
// already names it.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
