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
	"strconv"
	"strings"
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
	var ex loadgen.Exports
	var tokens string
	fs.IntVar(&ex.Clients, "exports", 0, "API readers running beside the senders, each downloading -export-url again and again (429: waits Retry-After)")
	fs.StringVar(&ex.URL, "export-url", "http://127.0.0.1:8080/api/v1/events/export", "with -exports: what the readers download")
	fs.StringVar(&tokens, "api-tokens", os.Getenv("INLET_LOAD_API_TOKENS"), "with -exports: comma-separated read tokens, spread over the readers (or INLET_LOAD_API_TOKENS)")
	fs.BoolVar(&ex.Gzip, "export-gzip", false, "with -exports: ask for gzip")
	fs.Float64Var(&cfg.Rate, "rate", 0, "events per second over all senders (0: as fast as they go)")
	var jl loadgen.Journeys
	fs.IntVar(&jl.Others, "journeys", -1, "journey figures: create a probe journey and this many other enabled journeys over the API (needs -api-token and -smtp-listen; the server's SMTP_URL points at -smtp-listen)")
	fs.StringVar(&jl.SMTPAddr, "smtp-listen", "127.0.0.1:2525", "with -journeys: where the SMTP sink listens")
	apiToken := fs.String("api-token", os.Getenv("INLET_LOAD_API_TOKEN"), "with -journeys: a write API token (or INLET_LOAD_API_TOKEN)")
	probeRate := fs.Int("probe-rate", 10, "with -journeys: probe sign-ups per second, each timed from its request to its email")
	interleave := fs.Int("interleave", 0, "with -journeys: instead of probing, N rounds of -duration with no journey enabled, then the -journeys others enabled; prints events/s of each and the ratio of medians")
	var probe loadgen.Probe
	fs.StringVar(&probe.API, "probe-api", "", "audience probe: the API base (http://host/api/v1); every -probe-every a new user sends -probe-event and the time from the 200 to -probe-audience listed in GET /users/{id} is reported")
	fs.StringVar(&probe.Token, "probe-token", "", "audience probe: a read token")
	fs.StringVar(&probe.Audience, "probe-audience", "orders", "audience probe: the audience the event makes a new user enter")
	fs.StringVar(&probe.Event, "probe-event", "Order Completed", "audience probe: the track event sent")
	fs.DurationVar(&probe.Every, "probe-every", 250*time.Millisecond, "audience probe: one probe per interval")
	serverPID := fs.Int("server-pid", 0, "report this process's peak RSS (VmHWM) at the end: the server's, on the same machine")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if ex.Clients > 0 {
		for _, t := range strings.Split(tokens, ",") {
			if t = strings.TrimSpace(t); t != "" {
				ex.Tokens = append(ex.Tokens, t)
			}
		}
		if len(ex.Tokens) == 0 {
			return errors.New("-exports needs -api-tokens")
		}
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
	var exRes *loadgen.ExportResult
	exDone := make(chan struct{})
	exCtx, stopExports := context.WithCancel(ctx)
	if ex.Clients > 0 {
		fmt.Fprintf(stdout, "with %d API readers of %s over %d tokens\n", ex.Clients, ex.URL, len(ex.Tokens))
		go func() { exRes = ex.Run(exCtx); close(exDone) }()
	} else {
		close(exDone)
	}
	if jl.Others >= 0 {
		jl.API, jl.Token, jl.Webhook, jl.Secret = apiBase(cfg.URL), *apiToken, cfg.URL, cfg.Secret
		stopExports()
		<-exDone
		return runJourneys(ctx, &jl, cfg, *probeRate, *interleave, stdout)
	}
	var probeRes *loadgen.ProbeResult
	probeDone := make(chan struct{})
	probeCtx, stopProbe := context.WithCancel(ctx)
	if probe.API != "" {
		probe.WebhookURL, probe.Secret = cfg.URL, cfg.Secret
		probe.RunID = "probe-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		go func() { probeRes = probe.Run(probeCtx); close(probeDone) }()
	} else {
		close(probeDone)
	}
	res, err := loadgen.Run(ctx, cfg)
	stopExports()
	<-exDone
	stopProbe()
	<-probeDone
	if probeRes != nil {
		defer fmt.Fprintln(stdout, probeRes)
	}
	if err != nil {
		return err
	}
	res.Print(stdout)
	if exRes != nil {
		fmt.Fprintln(stdout, exRes)
	}
	if *serverPID > 0 {
		fmt.Fprintf(stdout, "server peak RSS: %s\n", peakRSS(*serverPID))
	}
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

// peakRSS is VmHWM of pid, as /proc says it.
func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
