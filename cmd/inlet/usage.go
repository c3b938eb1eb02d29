package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/inlet-dev/inlet/internal/config"
)

// commandDoc documents one command or subcommand for `inlet --help` and
// `inlet CMD [SUB] --help`. Adding a command means adding its lines here and
// a case in run; help never reaches the command itself, so asking for it
// can never start, open or change anything.
type commandDoc struct {
	Path    string // "admin create"; "" for the bare `inlet`
	Args    string // what follows the path
	Summary string
	Details string // flags and notes, shown by `inlet PATH --help`
}

var commandDocs = []commandDoc{
	{Path: "serve", Summary: "run the server (the same as plain `inlet`); creates the embedded SQLite database on first start",
		Details: "Settings come from the environment; `inlet --help` lists them."},
	{Path: "migrate", Args: "[up|status] [--init]", Summary: "apply (up, the default) or list database migrations"},
	{Path: "migrate up", Args: "[--init]", Summary: "apply pending database migrations"},
	{Path: "migrate status", Summary: "list migrations and whether each is applied"},
	{Path: "secret set", Args: "[--workspace ID] [--init]", Summary: "set a workspace's Segment shared secret, read from stdin",
		Details: "  --workspace ID  the workspace (default: the default workspace)\n" +
			"The secret is the first line of stdin: printf %s \"$SECRET\" | inlet secret set"},
	{Path: "secret encrypt", Summary: "encrypt stored secrets with ENCRYPTION_KEY"},
	{Path: "admin create", Args: "--email E", Summary: "add a dashboard admin (password on stdin, or asked for)",
		Details: "  --email E  the admin's email address (required)"},
	{Path: "admin reset-password", Args: "--email E", Summary: "set a new password and sign that admin out everywhere",
		Details: "  --email E  the admin's email address (required)"},
	{Path: "writekey create", Args: "[--workspace ID] [--name N] [--kind client|server]", Summary: "make an HTTP Tracking API write key; prints only the key",
		Details: "  --workspace ID  the workspace (default: the default workspace)\n  --name N        a label telling the key's users apart, e.g. backend\n" +
			"  --kind K        client (default: in a browser or app, public; its aliases never merge two known users) or server (a secret on a server, trusted)"},
	{Path: "writekey kind", Args: "KEY_ID client|server", Summary: "change a write key's kind, for the events it sends from then on",
		Details: "  --workspace ID  look for the key only in this workspace"},
	{Path: "writekey list", Args: "[--workspace ID]", Summary: "list a workspace's write keys (never the keys themselves)",
		Details: "  --workspace ID  the workspace (default: the default workspace)"},
	{Path: "writekey revoke", Args: "KEY_ID", Summary: "stop a write key for good",
		Details: "  --workspace ID  look for the key only in this workspace"},
	{Path: "destination create", Args: "--url URL [--workspace ID] [--types track,identify,…] [--name NAME]", Summary: "forward every event from now on to URL (Standard Webhooks signed); prints only the signing secret"},
	{Path: "destination list", Args: "[--workspace ID]", Summary: "list a workspace's destinations (never their secrets)"},
	{Path: "destination delete", Args: "ID [--workspace ID]", Summary: "delete a destination with its waiting deliveries (pause it in the dashboard to stop for a while)"},
	{Path: "token create", Args: "[--workspace ID] [--name NAME] [--scope read|write] [--expires 90d|YYYY-MM-DD]", Summary: "make an /api/v1 token; prints only the token"},
	{Path: "token list", Args: "[--workspace ID]", Summary: "list tokens (never the tokens themselves)"},
	{Path: "token revoke", Args: "TOKEN_ID", Summary: "revoke an /api/v1 token"},
	{Path: "export", Args: "[--type T] [--event E] [--user U] [--from T] [--to T] [--gzip] [--workspace ID]", Summary: "every matching event as NDJSON on stdout"},
	{Path: "profiles rebuild", Args: "[--workspace ID]", Summary: "recompute every profile from the stored events"},
	{Path: "user delete", Args: "--user-id ID|--anonymous-id ID [--workspace ID] [--no-suppress]", Summary: "erase a user: the profile and its events"},
	{Path: "user unsuppress", Args: "--user-id ID|--anonymous-id ID [--workspace ID]", Summary: "store an erased user's events again"},
	{Path: "healthcheck", Summary: "exit 0 when the server on LISTEN_ADDR answers /healthz (Docker HEALTHCHECK)"},
	{Path: "version", Summary: "print the version"},
	{Path: "help", Args: "[COMMAND]", Summary: "print this help, or a command's"},
}

// initNote explains --init wherever a command opens the database.
const initNote = `Commands other than serve open the database Inlet already uses: DATABASE_URL, or
the SQLite file DATA_DIR/inlet.db (DATA_DIR defaults to ./data, relative to the
current folder). They print which one and refuse to create a new SQLite file
unless --init is given.`

// isHelpFlag reports whether arg asks for help.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--help", "-help", "--h":
		return true
	}
	return false
}

// helpRequest finds -h/--help among a command's arguments (before any "--")
// and returns the command path help is asked for: "admin", "admin create".
func helpRequest(cmd string, args []string) (string, bool) {
	for _, a := range args {
		if a == "--" {
			return "", false
		}
		if isHelpFlag(a) {
			path := cmd
			if len(args) > 0 && !strings.HasPrefix(args[0], "-") && hasCommand(cmd+" "+args[0]) {
				path = cmd + " " + args[0]
			}
			return path, true
		}
	}
	return "", false
}

func hasCommand(path string) bool {
	for _, d := range commandDocs {
		if d.Path == path || strings.HasPrefix(d.Path, path+" ") {
			return true
		}
	}
	return false
}

// commandHelp prints the usage of path and of its subcommands; it reports
// false when no such command exists.
func commandHelp(w io.Writer, path string) bool {
	var docs []commandDoc
	for _, d := range commandDocs {
		if d.Path == path || strings.HasPrefix(d.Path, path+" ") {
			docs = append(docs, d)
		}
	}
	if len(docs) == 0 {
		return false
	}
	fmt.Fprintln(w, "Usage:")
	for _, d := range docs {
		if d.Path == path && len(docs) > 1 {
			continue // the parent's line only repeats its subcommands
		}
		fmt.Fprintf(w, "  inlet %s\n      %s\n", strings.TrimSpace(d.Path+" "+d.Args), d.Summary)
		if d.Details != "" {
			for _, line := range strings.Split(d.Details, "\n") {
				fmt.Fprintf(w, "      %s\n", line)
			}
		}
	}
	if opensDatabase(path) {
		fmt.Fprintf(w, "\n  --init  create a new embedded SQLite database if none exists yet\n\n%s\n", initNote)
	}
	return true
}

// opensDatabase lists the commands that take --init.
func opensDatabase(path string) bool {
	root, _, _ := strings.Cut(path, " ")
	switch root {
	case "serve", "healthcheck", "version", "help":
		return false
	}
	return true
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Inlet receives Segment events and keeps them durably.\n\nUsage:\n  inlet                          serve (the same as \"inlet serve\")\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, d := range commandDocs {
		if d.Path == "migrate" { // migrate up / status are listed
			continue
		}
		fmt.Fprintf(tw, "  inlet %s\t%s\n", strings.TrimSpace(d.Path+" "+d.Args), d.Summary)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n`inlet COMMAND --help` shows a command's flags.\n\n%s\n\nSettings (environment variables):\n", initNote)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range config.Settings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Default, s.Help)
	}
	_ = tw.Flush()
}
