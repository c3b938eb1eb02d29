package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/export"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// profileOptions are the profile settings from the configuration.
func profileOptions(cfg *config.Config) profiles.Options {
	return profiles.Options{MaxAnonymousIDs: cfg.ProfileMaxAnon, MaxUserIDs: cfg.ProfileMaxUsers}
}

// tokenCmd manages read API tokens. create prints only the token on stdout,
// so `TOKEN=$(inlet token create)` works; what a person reads goes to stderr.
func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("token: use `inlet token create [--workspace ID] [--name NAME] [--scope read|write] [--expires 90d|2026-12-31]`, `inlet token list [--workspace ID]` or `inlet token revoke TOKEN_ID`")
	}
	fs := flag.NewFlagSet("token "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
	name := fs.String("name", "", "a label, e.g. crm-sync")
	scope := fs.String("scope", store.ScopeRead, "read (the /api/v1 reads) or write (also erasure)")
	expires := fs.String("expires", "", "create: when the token stops: a duration from now (90d, 12h) or the last day it works (2026-12-31, UTC); empty never expires")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var expiresAt *time.Time
	if *expires != "" {
		e, err := parseExpiry(*expires, time.Now())
		if err != nil {
			return fmt.Errorf("token create: --expires: %w", err)
		}
		expiresAt = &e
	}
	_, st, ws, err := openForWorkspace(ctx, getenv, *wsFlag)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "create":
		t, plain, err := st.CreateAPITokenWith(ctx, ws.ID, store.NewAPIToken{Name: *name, Scope: *scope, ExpiresAt: expiresAt})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, plain)
		until := "never expires"
		if t.ExpiresAt != nil {
			until = "expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(stderr, "%s API token %s created for workspace %s (%s), %s; it is shown only this once\n", t.Scope, t.ID, ws.Name, ws.ID, until)
		return nil
	case "list":
		toks, err := st.APITokens(ctx, ws.ID)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tTOKEN\tCREATED\tEXPIRES\tSTATUS")
		now := time.Now()
		for _, t := range toks {
			state, exp := "active", "never"
			if t.ExpiresAt != nil {
				exp = t.ExpiresAt.UTC().Format(time.RFC3339)
			}
			switch {
			case t.RevokedAt != nil:
				state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
			case t.Expired(now):
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", t.ID, t.Name, t.Scope, t.Prefix, t.CreatedAt.UTC().Format(time.RFC3339), exp, state)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return errors.New("token revoke: give the token's id (from `inlet token list`)")
		}
		id, err := uuid.Parse(fs.Arg(0))
		if err != nil {
			return fmt.Errorf("token revoke: %q is not a token id", fs.Arg(0))
		}
		if err := st.RevokeAPIToken(ctx, ws.ID, id); err != nil {
			return fmt.Errorf("token revoke %s: %w", id, err)
		}
		fmt.Fprintf(stdout, "API token %s revoked\n", id)
		return nil
	}
	return fmt.Errorf("token: unknown subcommand %q (use create, list or revoke)", args[0])
}

// parseExpiry reads --expires: a duration from now in days (90d) or any
// Go duration (12h), or the last day the token works (2026-12-31: it stops
// at the end of that day, UTC).
func parseExpiry(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseInLocation("2006-01-02", v, time.UTC); err == nil {
		e := d.AddDate(0, 0, 1)
		if !e.After(now) {
			return time.Time{}, fmt.Errorf("%s is in the past", v)
		}
		return e, nil
	}
	var dur time.Duration
	if n, ok := strings.CutSuffix(v, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 1 || days > 36500 {
			return time.Time{}, fmt.Errorf("%q: a number of days from 1 to 36500, such as 90d", v)
		}
		dur = time.Duration(days) * 24 * time.Hour
	} else {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("%q: a duration such as 90d or 12h, or a date such as 2026-12-31", v)
		}
		dur = d
	}
	return now.Add(dur), nil
}

// exportCmd writes a workspace's events as NDJSON to stdout:
// `inlet export [--type T] [--event E] [--user U] [--from T] [--to T] > events.ndjson`.
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
	q := map[string]*string{}
	for _, k := range []string{"type", "event", "user", "from", "to"} {
		q[k] = fs.String(k, "", "the events page's "+k+" filter")
	}
	gz := fs.Bool("gzip", false, "gzip the output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, st, ws, err := openForWorkspace(ctx, getenv, *wsFlag)
	if err != nil {
		return err
	}
	defer st.Close()
	vals := map[string][]string{}
	for k, v := range q {
		if *v != "" {
			vals[k] = []string{*v}
		}
	}
	f, msg := store.ParseEventFilter(vals, store.EventFilter{WorkspaceID: ws.ID})
	if msg != "" {
		return fmt.Errorf("export: --%s", msg)
	}
	bw := bufio.NewWriterSize(stdout, 256<<10)
	var w io.Writer = bw
	var zw *gzip.Writer
	if *gz {
		zw = gzip.NewWriter(bw)
		w = zw
	}
	n, err := export.Write(ctx, st, f, w, nil)
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return nil
}

// profilesCmd: `inlet profiles rebuild [--workspace ID]`.
func profilesCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return errors.New("profiles: use `inlet profiles rebuild [--workspace ID]`")
	}
	fs := flag.NewFlagSet("profiles rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: every workspace)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	var wss []store.Workspace
	if *wsFlag != "" {
		ws, err := pickWorkspace(ctx, st, *wsFlag)
		if err != nil {
			return err
		}
		wss = []store.Workspace{ws}
	} else if wss, err = st.Workspaces(ctx); err != nil {
		return err
	}
	opts := profileOptions(cfg)
	opts.Suppressions = profiles.NewSuppressions(st)
	f := profiles.NewFollower(st, opts)
	for _, ws := range wss {
		start := time.Now()
		n, err := f.Rebuild(ctx, ws.ID)
		if err != nil {
			return err
		}
		took := time.Since(start)
		fmt.Fprintf(stdout, "workspace %s (%s): %d events applied in %s (%.0f events/s)\n", ws.Name, ws.ID, n,
			took.Round(time.Millisecond), float64(n)/max(took.Seconds(), 1e-9))
	}
	return nil
}

// userCmd: `inlet user delete --user-id ID|--anonymous-id ID [--workspace ID]
// [--no-suppress]` and `inlet user unsuppress --user-id ID|--anonymous-id ID
// [--workspace ID]`. Ids are taken exactly as given (any characters).
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "delete" && args[0] != "unsuppress") {
		return errors.New("user: use `inlet user delete --user-id ID|--anonymous-id ID [--workspace ID] [--no-suppress]` or `inlet user unsuppress --user-id ID|--anonymous-id ID`")
	}
	fs := flag.NewFlagSet("user "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	wsFlag := fs.String("workspace", "", "workspace id (default: the default workspace)")
	userID := fs.String("user-id", "", "the userId of the profile")
	anonID := fs.String("anonymous-id", "", "or an anonymousId of the profile")
	noSuppress := fs.Bool("no-suppress", false, "store later events of the erased ids again")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if (*userID == "") == (*anonID == "") {
		return errors.New("user: give exactly one of --user-id and --anonymous-id")
	}
	kind, id := store.IdentityUser, *userID
	if *anonID != "" {
		kind, id = store.IdentityAnon, *anonID
	}
	cfg, st, ws, err := openForWorkspace(ctx, getenv, *wsFlag)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "unsuppress" {
		n, err := profiles.LiftSuppression(ctx, st, ws.ID, kind, id, nil)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("user unsuppress: %q is not suppressed", id)
		}
		fmt.Fprintf(stdout, "suppression lifted for %d ids; running servers store their events again within 2 seconds\n", n)
		return nil
	}
	opts := profileOptions(cfg)
	var notice *profiles.ErasureNotice
	opts.Notify = func(_ context.Context, _ uuid.UUID, n profiles.ErasureNotice) { notice = &n }
	req := profiles.EraseRequest{UserID: *userID, AnonymousID: *anonID, RequestedBy: "cli", Source: "cli", Suppress: !*noSuppress}
	res, err := profiles.Erase(ctx, st, ws.ID, req, nil, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "erased: %d identities, %d events deleted, suppressed: %v (erasure %s)\n",
		res.Identities, res.EventsDeleted, res.Suppressed, res.ErasureID)
	if notice != nil {
		// The command waits for the destinations that asked to be told.
		sender := delivery.NewSender(newDeliveryGuard(cfg), cfg.DestinationTimeout, 2, version)
		nctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		if err := sender.SendErasureNotices(nctx, st, ws.ID, delivery.ErasureNotice(*notice), nil); err != nil {
			fmt.Fprintf(stderr, "erasure notices not sent: %v\n", err)
		}
	}
	return nil
}
