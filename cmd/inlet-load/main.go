// Command inlet-load posts signed Segment track events to an Inlet webhook
// from many concurrent senders, reports throughput and latency, and with
// -verify-db checks that every acknowledged event is stored exactly once.
//
//	inlet-load -secret S -senders 64 -duration 30s -verify-db postgres://…
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "inlet-load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inlet-load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg loadgen.Config
	var secret, verifyDB, workspace string
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080/api/public/webhooks/segment", "webhook URL (add ?workspaceId= for another workspace)")
	fs.StringVar(&secret, "secret", os.Getenv("INLET_LOAD_SECRET"), "shared secret to sign with (or INLET_LOAD_SECRET)")
	fs.IntVar(&cfg.Senders, "senders", 64, "concurrent senders")
	fs.DurationVar(&cfg.Duration, "duration", 0, "how long to send (default 10s when -events is not set)")
	fs.IntVar(&cfg.Events, "events", 0, "how many events to send")
	fs.IntVar(&cfg.Batch, "batch", 1, "events per request; >1 sends a JSON array signed over the whole body")
	fs.IntVar(&cfg.Size, "size", 1024, "approximate bytes per event")
	fs.BoolVar(&cfg.Retry, "retry", false, "retry 429, 5xx and transport errors, honouring Retry-After up to -retry-cap, like Segment")
	fs.DurationVar(&cfg.RetryFor, "retry-for", time.Minute, "with -retry: how long one request keeps being retried")
	fs.DurationVar(&cfg.RetryCap, "retry-cap", time.Second, "with -retry: longest wait between two attempts")
	fs.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "per-request timeout")
	fs.StringVar(&cfg.RunID, "run-id", "", "messageId prefix (default random)")
	fs.StringVar(&verifyDB, "verify-db", "", "PostgreSQL URL: afterwards check every acknowledged messageId is stored exactly once")
	cpuProfile := fs.String("cpuprofile", "", "write this program's CPU profile to the file (to see what the sender itself costs)")
	fs.StringVar(&workspace, "workspace", "", "with -verify-db: workspace id to check (default: the default workspace)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if secret == "" {
		return errors.New("-secret is required (the workspace's shared secret)")
	}
	cfg.Secret = []byte(secret)
	if cfg.Duration == 0 && cfg.Events == 0 {
		cfg.Duration = 10 * time.Second
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "sending to %s: %d senders, batch %d, ~%d-byte events, retry %v\n", cfg.URL, cfg.Senders, cfg.Batch, cfg.Size, cfg.Retry)
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	res.Print(stdout)
	if verifyDB == "" {
		return nil
	}
	vctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	v, err := loadgen.Verify(vctx, verifyDB, workspace, res.RunID, res.Acked)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, v)
	if !v.OK() {
		return fmt.Errorf("LOSS: %d acknowledged events missing, %d stored more than once", len(v.Missing), len(v.Duplicated))
	}
	return nil
}
