package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/config"
)

// audienceCmd lists, shows and creates audiences. A created audience is
// built by the running servers (their engines pick it up on their own).
func audienceCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("audience: use `inlet audience list`, `inlet audience show KEY` or `inlet audience create --file F` (each with [--workspace ID])")
	}
	fs := flag.NewFlagSet("audience "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
	file := fs.String("file", "", "the definition (JSON), - for stdin")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	ws, err := pickWorkspace(ctx, st, *wsFlag)
	if err != nil {
		return err
	}
	counts, err := st.AudienceMemberCounts(ctx, ws.ID)
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		rows, err := st.Audiences(ctx, ws.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KEY\tNAME\tVERSION\tSTATUS\tMEMBERS")
		for _, r := range rows {
			status := "ready"
			if r.Building() {
				status = fmt.Sprintf("building %d/%d", r.BuildDone, r.BuildTotal)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\n", r.Key, r.Name, r.Version, status, counts[r.Key])
		}
		return tw.Flush()
	case "show":
		if fs.NArg() != 1 {
			return errors.New("audience show: give the audience's key")
		}
		r, err := st.Audience(ctx, ws.ID, fs.Arg(0))
		if err != nil {
			return fmt.Errorf("audience %q: %w", fs.Arg(0), err)
		}
		out := audiences.DefinitionJSON(r)
		out["version"], out["status"], out["memberCount"] = r.Version, "ready", counts[r.Key]
		if r.Building() {
			out["status"] = "building"
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "create":
		if *file == "" {
			return errors.New("audience create: give --file F (the definition as JSON, - for stdin)")
		}
		var raw []byte
		if *file == "-" {
			raw, err = io.ReadAll(io.LimitReader(os.Stdin, audiences.MaxDefinitionBytes+1))
		} else {
			raw, err = os.ReadFile(*file)
		}
		if err != nil {
			return fmt.Errorf("audience create: %w", err)
		}
		eng := audiences.NewEngine(st, audiences.Options{Limits: audienceLimits(cfg)})
		r, err := eng.Create(ctx, ws.ID, raw)
		if err != nil {
			return fmt.Errorf("audience create: %w", err)
		}
		fmt.Fprintf(stdout, "audience %s created (version %d); the running servers build it now\n", r.Key, r.Version)
		return nil
	}
	return fmt.Errorf("audience: unknown subcommand %q", args[0])
}

// audienceLimits are the definition limits from the configuration.
func audienceLimits(cfg *config.Config) audiences.Limits {
	return audiences.Limits{MaxAudiences: cfg.AudiencesMax, MaxNodes: cfg.AudienceMaxNodes, MaxDepth: cfg.AudienceMaxDepth}
}
