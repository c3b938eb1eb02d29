package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

// destinationCmd manages destinations from a shell. create prints only the
// signing secret on stdout, so `SECRET=$(inlet destination create --url …)`
// works; what a person should read goes to stderr.
func destinationCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "destination: use `inlet destination create --url URL [--workspace ID] [--types track,identify,…] [--name NAME] [--erasure-notice]`, " +
		"`inlet destination list [--workspace ID]` or `inlet destination delete ID [--workspace ID]`"
	if len(args) == 0 {
		return errors.New(use)
	}
	fs := flag.NewFlagSet("destination "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
	switch args[0] {
	case "create":
		url := fs.String("url", "", "the receiver's http(s) URL (required)")
		types := fs.String("types", "", "comma-separated event types to send ("+strings.Join(delivery.EventTypes, ",")+"); default: all")
		name := fs.String("name", "", "a name telling destinations apart (default: the URL)")
		notice := fs.Bool("erasure-notice", false, `after each erasure, send a signed {"type":"erasure",…} notice to this destination`)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("destination create: unexpected argument %q (flags only)", fs.Arg(0))
		}
		if *url == "" {
			return errors.New("destination create: --url is required")
		}
		cfg, st, ws, err := openForWorkspace(ctx, getenv, *wsFlag)
		if err != nil {
			return err
		}
		defer st.Close()
		d, err := delivery.Create(ctx, st, newDeliveryGuard(cfg), ws.ID, delivery.Input{Name: *name, URL: *url, Types: *types, ErasureNotice: *notice})
		if err != nil {
			return fmt.Errorf("destination create: %w", err)
		}
		fmt.Fprintln(stdout, d.Secret)
		fmt.Fprintf(stderr, "destination %s created for workspace %s (%s): events committed from now on go to %s; "+
			"the signing secret above is shown only this once\n", d.ID, ws.Name, ws.ID, d.URL)
		return nil
	case "list":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		_, st, ws, err := openForWorkspace(ctx, getenv, *wsFlag)
		if err != nil {
			return err
		}
		defer st.Close()
		ds, err := st.Destinations(ctx, ws.ID)
		if err != nil {
			return err
		}
		printDestinations(stdout, ds)
		return nil
	case "delete":
		return destinationDelete(ctx, fs, wsFlag, args[1:], getenv, stderr)
	default:
		return fmt.Errorf("destination: unknown subcommand %q\n%s", args[0], use)
	}
}

// destinationDelete is `inlet destination delete ID [--workspace ID]`: the
// destination goes with its waiting retries and recent attempts; a worker
// sending to it (on any instance) stops at its next write or lease renewal.
func destinationDelete(ctx context.Context, fs *flag.FlagSet, wsFlag *string, args []string, getenv func(string) string, stderr io.Writer) error {
	// The id may come before or after the flags.
	if err := fs.Parse(args); err != nil {
		return err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New("destination delete: give the destination's id (see `inlet destination list`)")
	}
	raw := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("destination delete: unexpected argument %q (one id)", fs.Arg(0))
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return fmt.Errorf("destination delete: %q is not a destination id (see `inlet destination list`)", raw)
	}
	_, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := pickWorkspace(ctx, st, *wsFlag)
	if err != nil {
		return err
	}
	d, err := st.Destination(ctx, ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("destination delete: no destination %s in workspace %s (%s)", id, ws.Name, ws.ID)
	}
	if err != nil {
		return fmt.Errorf("destination delete: %w", err)
	}
	if err := st.DeleteDestination(ctx, ws.ID, id); err != nil {
		return fmt.Errorf("destination delete: %w", err)
	}
	fmt.Fprintf(stderr, "destination %s (%s) deleted: nothing more is sent to %s; its waiting deliveries are dropped\n", d.ID, d.Name, d.URL)
	return nil
}

func printDestinations(w io.Writer, ds []store.Destination) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tURL\tTYPES\tSTATE\tDELIVERED\tFAILED")
	for _, d := range ds {
		types := "all"
		if len(d.Types) > 0 {
			types = strings.Join(d.Types, ",")
		}
		state := "enabled"
		if d.Paused {
			state = "paused"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", d.ID, d.Name, d.URL, types, state, d.Delivered, d.Failed)
	}
	_ = tw.Flush()
}
