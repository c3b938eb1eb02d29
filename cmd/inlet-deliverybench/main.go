// Command inlet-deliverybench measures how fast one destination drains a
// backlog: it stores N events in a fresh workspace, points one destination
// at a local receiver that answers 204 at once (verifying each signature
// with -verify), runs the real delivery workers and reports deliveries per
// second and attempt latencies.
//
//	inlet-deliverybench -db postgres://postgres@127.0.0.1:5432/bench -events 100000
//	inlet-deliverybench -events 50000            # embedded SQLite in a temp dir
//	inlet-deliverybench -events 500 -outage 8s   # a receiver down for 8 s, then back
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inlet-deliverybench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("inlet-deliverybench", flag.ContinueOnError)
	db := fs.String("db", "", "PostgreSQL URL (migrated here; a fresh workspace is used); empty: embedded SQLite in a temp dir")
	events := fs.Int("events", 100000, "events in the backlog")
	concurrency := fs.Int("concurrency", 32, "requests in flight for the destination (DESTINATION_CONCURRENCY)")
	window := fs.Int("window", 1000, "events read from the feed per step")
	verify := fs.Bool("verify", true, "the receiver checks every signature (costs its CPU too)")
	outage := fs.Duration("outage", 0, "instead of a backlog: events arrive over 2s + outage + 2s while the receiver is down for the outage")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir := ""
	if *db == "" {
		var err error
		if dir, err = os.MkdirTemp("", "deliverybench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	st, err := store.Open(ctx, *db, dir, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	ws, err := st.CreateWorkspace(ctx, fmt.Sprintf("deliverybench %d", time.Now().UnixNano()))
	if err != nil {
		return err
	}

	if *outage > 0 {
		return outageBench(ctx, out, st, ws.ID, *events, *outage, *concurrency)
	}

	var got atomic.Int64
	var badSig atomic.Int64
	var secret []byte
	done := make(chan struct{})
	var once sync.Once
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if *verify && !validSignature(secret, r.Header, body) {
			badSig.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
		if got.Add(1) == int64(*events) {
			once.Do(func() { close(done) })
		}
	}))
	defer recv.Close()

	d, err := delivery.Create(ctx, st, nil, ws.ID, delivery.Input{Name: "bench", URL: recv.URL})
	if err != nil {
		return err
	}
	secret, _ = base64.StdEncoding.DecodeString(strings.TrimPrefix(d.Secret, delivery.SecretPrefix))

	fmt.Fprintf(out, "storing %d events (%s)...\n", *events, st.Dialect())
	if err := fill(ctx, st, ws.ID, *events); err != nil {
		return err
	}
	obs := &latencies{}
	m := delivery.New(st, delivery.Options{Concurrency: *concurrency, Window: *window, Observer: obs, Rescan: 100 * time.Millisecond})
	start := time.Now()
	m.Start(ctx)
	defer m.Close(context.Background()) //nolint:errcheck // the figures are printed already
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(10 * time.Minute):
		return errors.New("backlog not drained within 10 minutes")
	}
	took := time.Since(start)
	if n := badSig.Load(); n > 0 {
		return fmt.Errorf("%d deliveries failed signature verification", n)
	}
	p50, p99 := obs.percentiles()
	fmt.Fprintf(out, "store=%s events=%d concurrency=%d window=%d verify=%v\n", st.Dialect(), *events, *concurrency, *window, *verify)
	fmt.Fprintf(out, "drained in %s: %.0f deliveries/s; attempt latency p50=%s p99=%s\n",
		took.Round(time.Millisecond), float64(*events)/took.Seconds(), p50, p99)
	return nil
}

func fill(ctx context.Context, st *store.Store, ws uuid.UUID, n int) error {
	now := time.Now()
	for i := 0; i < n; i += 1000 {
		batch := make([]store.NewEvent, 0, 1000)
		for j := i; j < min(i+1000, n); j++ {
			mid := fmt.Sprintf("bench-%d-%08d", now.UnixNano(), j)
			batch = append(batch, store.NewEvent{
				WorkspaceID: ws, MessageID: mid, Type: "track", Event: "Bench", UserID: "u",
				ReceivedAt: now, Source: "webhook",
				Raw: []byte(`{"type":"track","event":"Bench","userId":"u","messageId":"` + mid + `","properties":{"plan":"pro","amount":42.5,"items":[1,2,3]}}`),
			})
		}
		if _, err := st.InsertEvents(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// validSignature checks the first v1 signature the way the spec says,
// independently of the sender's code.
func validSignature(key []byte, h http.Header, body []byte) bool {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(h.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) DestinationAttempt(_ string, _ int, took time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, took)
	l.mu.Unlock()
}

func (l *latencies) percentiles() (p50, p99 time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0, 0
	}
	slices.Sort(l.d)
	return l.d[len(l.d)/2].Round(time.Microsecond), l.d[len(l.d)*99/100].Round(time.Microsecond)
}
