package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"slices"
	"time"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
)

// apiBase is the server's base URL from the webhook's.
func apiBase(webhook string) string {
	u, err := url.Parse(webhook)
	if err != nil {
		return webhook
	}
	return u.Scheme + "://" + u.Host
}

// runJourneys is -journeys: the event-to-email latency of a probe journey
// under the load cfg describes, or (-interleave) the webhook's rate with no
// journey enabled and with the others enabled, in alternating rounds.
func runJourneys(ctx context.Context, jl *loadgen.Journeys, cfg loadgen.Config, probeRate, rounds int, out io.Writer) error {
	stop, err := jl.Setup(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if rounds > 0 {
		// Without: no journey enabled at all; with: the others only.
		if err := jl.EnableProbe(ctx, false); err != nil {
			return err
		}
		var off, on []float64
		for r := range rounds {
			for _, enabled := range []bool{false, true} {
				if err := jl.EnableOthers(ctx, enabled); err != nil {
					return err
				}
				c := cfg
				if cfg.RunID != "" {
					c.RunID = fmt.Sprintf("%s-r%d-%v", cfg.RunID, r, enabled)
				}
				res, err := loadgen.Run(ctx, c)
				if err != nil {
					return err
				}
				rate := float64(len(res.Acked)) / res.Elapsed.Seconds()
				fmt.Fprintf(out, "round %d, %d other journeys enabled=%v: %.0f acknowledged events/s (%d events, %v)\n", r+1, jl.Others, enabled, rate, len(res.Acked), res.Status)
				if enabled {
					on = append(on, rate)
				} else {
					off = append(off, rate)
				}
			}
		}
		fmt.Fprintf(out, "median events/s: without journeys %.0f, with %d enabled %.0f: ratio %.2f\n", median(off), jl.Others, median(on), median(on)/median(off))
		return nil
	}
	pctx, stopProbe := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { jl.Probe(pctx, probeRate, cfg.RunID+"probe"); close(done) }()
	res, err := loadgen.Run(ctx, cfg)
	stopProbe()
	<-done
	if err != nil {
		return err
	}
	res.Print(out)
	jl.Wait(15 * time.Second) // the probes still missing
	fmt.Fprintln(out, jl.Report())
	return nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
