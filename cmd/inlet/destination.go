package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

// destinationCmd manages destinations from a shell. create prints only the
// signing secret on stdout, so `SECRET=$(inlet destination create --url …)`
// works; what a person should read goes to stderr.
func destinationCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	const use = "destination: use `inlet destination create --url URL [--workspace ID] [--types track,identify,…] [--name NAME]` or `inlet destination list [--workspace ID]`"
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
		d, err := delivery.Create(ctx, st, newDeliveryGuard(cfg), ws.ID, delivery.Input{Name: *name, URL: *url, Types: *types})
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
	default:
		return fmt.Errorf("destination: unknown subcommand %q\n%s", args[0], use)
	}
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
