// Command inlet receives Segment events and keeps them in PostgreSQL (or, with
// no DATABASE_URL, in an embedded SQLite file).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "inlet:", err)
		os.Exit(1)
	}
}

// run dispatches the subcommands; with none it serves. -h/--help anywhere
// in a command's arguments prints its usage and runs nothing.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch {
	case isHelpFlag(cmd) || cmd == "help":
		if len(args) > 0 && !isHelpFlag(args[0]) {
			if !commandHelp(stdout, strings.Join(args, " ")) {
				usage(stderr)
				return fmt.Errorf("no command %q", strings.Join(args, " "))
			}
			return nil
		}
		usage(stdout)
		return nil
	case hasCommand(cmd):
		if path, ok := helpRequest(cmd, args); ok {
			commandHelp(stdout, path)
			return nil
		}
	}
	if opensDatabase(cmd) {
		var init bool
		args, init = takeInit(args)
		ctx = withCLIOptions(ctx, cliOptions{init: init, stderr: stderr})
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stdout)
	case "migrate":
		return migrateCmd(ctx, args, getenv, stdout)
	case "secret":
		return secretCmd(ctx, args, getenv, stdin, stdout)
	case "admin":
		return adminCmd(ctx, args, getenv, stdin, stdout)
	case "writekey":
		return writekeyCmd(ctx, args, getenv, stdout, stderr)
	case "destination":
		return destinationCmd(ctx, args, getenv, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args, getenv, stdout, stderr)
	case "export":
		return exportCmd(ctx, args, getenv, stdout, stderr)
	case "profiles":
		return profilesCmd(ctx, args, getenv, stdout, stderr)
	case "user":
		return userCmd(ctx, args, getenv, stdout, stderr)
	case "audience":
		return audienceCmd(ctx, args, getenv, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, getenv, stdout)
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "inlet", version)
		return nil
	default:
		usage(stderr)
		return fmt.Errorf("unknown command %q", cmd)
	}
}
