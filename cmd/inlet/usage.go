package main

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
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
			"The secret is stdin's first line: printf %s \"$SECRET\" | inlet secret set"},
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
	{Path: "destination create", Args: "--url URL [--types T,…] [--name N] [--erasure-notice] [--workspace ID]",
		Summary: "forward every event from now on to URL (Standard Webhooks signed); prints only the signing secret",
		Details: "  --url URL       the receiver's http(s) URL (required)\n" +
			"  --types T,…     comma-separated event types to send (default: all):\n" +
			"                  " + strings.Join(delivery.EventTypes, ",") + "\n" +
			"  --name N        a name telling destinations apart (default: the URL)\n" +
			"  --erasure-notice  also POST a signed notice after every erasure\n" +
			"  --workspace ID  the workspace (default: the default workspace)"},
	{Path: "destination list", Args: "[--workspace ID]", Summary: "list a workspace's destinations (never their secrets)",
		Details: "  --workspace ID  the workspace (default: the default workspace)"},
	{Path: "destination delete", Args: "ID [--workspace ID]", Summary: "delete a destination with its waiting deliveries (pause it in the dashboard to stop for a while)"},
	{Path: "audience list", Args: "[--workspace ID]", Summary: "list audiences with version, build status and member count"},
	{Path: "audience show", Args: "KEY [--workspace ID]", Summary: "print an audience's definition, version, status and member count as JSON"},
	{Path: "audience create", Args: "--file F [--workspace ID]", Summary: "create an audience from a JSON definition (- for stdin); the servers build it"},
	{Path: "token create", Args: "[--name N] [--scope read|write] [--expires 90d|YYYY-MM-DD] [--workspace ID]", Summary: "make an /api/v1 token; prints only the token",
		Details: "  --name N        a label, e.g. crm-sync\n" +
			"  --scope S       read (the default: /api/v1 reads) or write (+ erasure)\n" +
			"  --expires E     when it stops: a duration from now (90d, 12h) or the\n" +
			"                  last day it works (2026-12-31, UTC); unset: never\n" +
			"  --workspace ID  the workspace (default: the default workspace)"},
	{Path: "token list", Args: "[--workspace ID]", Summary: "list tokens (never the tokens themselves)"},
	{Path: "token revoke", Args: "TOKEN_ID", Summary: "revoke an /api/v1 token"},
	{Path: "export", Args: "[--type T] [--event E] [--user U] [--from T] [--to T] [--gzip] [--workspace ID]",
		Summary: "every matching event as NDJSON on stdout, oldest first",
		Details: "  --type T        only events of this type, one of:\n" +
			"                  " + strings.Join(delivery.EventTypes, ", ") + "\n" +
			"  --event E       only track events with this name\n" +
			"  --user U        only events of this userId or anonymousId\n" +
			"  --from T        received at or after T, RFC 3339 (2026-05-06T14:30:00Z)\n" +
			"  --to T          received before T, RFC 3339\n" +
			"  --gzip          gzip the output\n" +
			"  --workspace ID  the workspace (default: the default workspace)\n" +
			"Example: inlet export --user user-42 --gzip > user-42.ndjson.gz"},
	{Path: "profiles rebuild", Args: "[--workspace ID]", Summary: "recompute every profile from the stored events",
		Details: "  --workspace ID  the workspace (default: every workspace)"},
	{Path: "user delete", Args: "--user-id ID|--anonymous-id ID [--no-suppress] [--workspace ID]", Summary: "erase a user: the profile and its events",
		Details: "  --user-id ID    the userId of the profile to erase\n" +
			"  --anonymous-id ID  or an anonymousId of the profile\n" +
			"  --no-suppress   store later events of the erased ids again\n" +
			"  --workspace ID  the workspace (default: the default workspace)"},
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
		fmt.Fprint(w, wrap("inlet "+strings.TrimSpace(d.Path+" "+d.Args), 2, 4, helpWidth), wrap(d.Summary, 6, 6, helpWidth))
		if d.Details != "" {
			for _, line := range strings.Split(d.Details, "\n") {
				fmt.Fprint(w, detailLine(line))
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

// helpWidth is the terminal width help is written for: every line fits.
const helpWidth = 80

func usage(w io.Writer) {
	fmt.Fprint(w, "Inlet receives Segment events and keeps them durably.\n\nUsage:\n")
	fmt.Fprint(w, wrap("inlet", 2, 4, helpWidth), wrap(`serve (the same as "inlet serve")`, 6, 6, helpWidth))
	for _, d := range commandDocs {
		if d.Path == "migrate" { // migrate up / status are listed
			continue
		}
		fmt.Fprint(w, wrap("inlet "+strings.TrimSpace(d.Path+" "+d.Args), 2, 4, helpWidth), wrap(d.Summary, 6, 6, helpWidth))
	}
	fmt.Fprintf(w, "\n`inlet COMMAND --help` shows a command's flags.\n\n%s\n\nSettings (environment variables):\n", initNote)
	for _, s := range config.Settings {
		head := s.Name + " (unset by default)"
		if s.Default != "" {
			head = s.Name + " (default " + strings.Trim(s.Default, "()") + ")"
		}
		fmt.Fprint(w, wrap(head, 2, 4, helpWidth), wrap(s.Help, 6, 6, helpWidth))
	}
}

// wrap breaks text into lines of at most width columns, the first indented
// by first spaces and the rest by rest; a word longer than a line stays whole
// on its own line.
func wrap(text string, first, rest, width int) string {
	var b strings.Builder
	indent := first
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && indent+utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width {
			b.WriteString(strings.Repeat(" ", indent) + line + "\n")
			line, indent = "", rest
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		b.WriteString(strings.Repeat(" ", indent) + line + "\n")
	}
	return b.String()
}

// detailLine prints one line of a command's details indented by 6; a flag
// line too long for helpWidth wraps its description under itself, after
// the 18-column flag name.
func detailLine(line string) string {
	const indent, flagCol = 6, 18
	if indent+utf8.RuneCountInString(line) <= helpWidth || !strings.HasPrefix(line, "  --") || len(line) <= flagCol {
		return strings.Repeat(" ", indent) + line + "\n"
	}
	body := wrap(line[flagCol:], indent+flagCol, indent+flagCol, helpWidth)
	return strings.Repeat(" ", indent) + line[:flagCol] + strings.TrimLeft(body, " ")
}
