//go:build pprof

package main

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof"
	"os"
)

// A profiling build (go build -tags pprof) serves net/http/pprof on
// PPROF_ADDR (default 127.0.0.1:6060) for the benchmarks in
// docs/benchmarks.md; release builds carry none of it.
func init() {
	addr := os.Getenv("PPROF_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6060"
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil {
			slog.Warn("pprof listener", "err", err)
		}
	}()
}
