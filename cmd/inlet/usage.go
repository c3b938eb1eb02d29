package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/inlet-dev/inlet/internal/config"
)

func usage(w io.Writer) {
	fmt.Fprint(w, `Inlet receives Segment events and keeps them durably.

Usage:
  inlet                          serve (the same as "inlet serve")
  inlet migrate [up|status]      apply or list database migrations
  inlet secret set [--workspace ID]
                                 set a workspace's Segment shared secret, read from stdin
  inlet secret encrypt           encrypt stored secrets with ENCRYPTION_KEY
  inlet admin create --email E   add a dashboard admin (password on stdin, or asked for)
  inlet admin reset-password --email E
                                 set a new password and sign that admin out everywhere
  inlet writekey create [--workspace ID] [--name N]
                                 make an HTTP Tracking API write key; prints only the key
  inlet writekey list [--workspace ID]
                                 list a workspace's write keys (never the keys themselves)
  inlet writekey revoke KEY_ID   stop a write key for good
  inlet destination create --url URL [--workspace ID] [--types track,identify,…] [--name NAME]
                                 forward every event from now on to URL (Standard Webhooks signed);
                                 prints only the signing secret
  inlet destination list [--workspace ID]
                                 list a workspace's destinations (never their secrets)
  inlet token create [--workspace ID] [--name NAME] [--scope read|write]
                                 make an /api/v1 token; prints only the token
  inlet token list|revoke        list tokens (never the tokens themselves) / revoke TOKEN_ID
  inlet export [--type T] [--event E] [--user U] [--from T] [--to T] [--gzip] [--workspace ID]
                                 every matching event as NDJSON on stdout
  inlet profiles rebuild [--workspace ID]
                                 recompute every profile from the stored events
  inlet user delete --user-id ID [--workspace ID] [--no-suppress]
                                 erase a user: profile and every event of every identity
  inlet user unsuppress --user-id ID [--workspace ID]
                                 store an erased user's events again
  inlet healthcheck              exit 0 when the server on LISTEN_ADDR answers /healthz (Docker HEALTHCHECK)
  inlet version                  print the version

Settings (environment variables):
`)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range config.Settings {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Name, s.Default, s.Help)
	}
	_ = tw.Flush()
}
