package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

// outageBench measures a receiver that goes away and comes back: events
// arrive one by one at an even pace over lead + outage + lead; the
// receiver's server stops (its port refuses connections) for the outage and
// starts again on the same port. It reports how long after the recovery the
// last event of the outage arrived, and how many attempts the worker made
// while the receiver was down (the circuit's probes, beside the first
// failures that opened it).
func outageBench(ctx context.Context, out io.Writer, st *store.Store, ws uuid.UUID, events int, outage time.Duration, concurrency int) error {
	const lead = 2 * time.Second
	var mu sync.Mutex
	delivered := map[string]time.Time{}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		if _, ok := delivered[r.Header.Get("webhook-id")]; !ok {
			delivered[r.Header.Get("webhook-id")] = time.Now()
		}
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()

	d, err := delivery.Create(ctx, st, nil, ws, delivery.Input{Name: "outage", URL: "http://" + addr + "/hook"})
	if err != nil {
		return err
	}
	obs := &attemptCounter{}
	m := delivery.New(st, delivery.Options{Concurrency: concurrency, Observer: obs, Rescan: 100 * time.Millisecond})
	m.Start(ctx)
	defer m.Close(context.Background()) //nolint:errcheck // the figures are printed already

	span := 2*lead + outage
	every := span / time.Duration(events)
	start := time.Now()
	var downAt, upAt time.Time
	var duringOutage []string
	for i := range events {
		now := time.Now()
		if downAt.IsZero() && now.Sub(start) >= lead {
			_ = srv.Close()
			downAt = time.Now()
			obs.failedAtDown.Store(obs.failed.Load())
		}
		if !downAt.IsZero() && upAt.IsZero() && now.Sub(downAt) >= outage {
			if l, err = net.Listen("tcp", addr); err != nil {
				return fmt.Errorf("listen again: %w", err)
			}
			srv = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
			go func() { _ = srv.Serve(l) }()
			upAt = time.Now()
			obs.failedAtUp.Store(obs.failed.Load())
		}
		mid := fmt.Sprintf("outage-%d-%06d", start.UnixNano(), i)
		if !downAt.IsZero() && upAt.IsZero() {
			duringOutage = append(duringOutage, delivery.WebhookID(d.ID, mid))
		}
		ev := store.NewEvent{WorkspaceID: ws, MessageID: mid, Type: "track", Event: "Bench", UserID: "u", ReceivedAt: now,
			Source: "webhook", Raw: []byte(`{"type":"track","event":"Bench","userId":"u","messageId":"` + mid + `"}`)}
		if _, err := st.InsertEvents(ctx, []store.NewEvent{ev}); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Until(start.Add(time.Duration(i+1) * every))):
		}
	}
	defer srv.Close()
	if upAt.IsZero() {
		return errors.New("the outage did not end before the last event: use more events or a shorter outage")
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		mu.Lock()
		n, last := 0, time.Time{}
		for _, id := range duringOutage {
			if at, ok := delivered[id]; ok {
				n++
				if at.After(last) {
					last = at
				}
			}
		}
		all := len(delivered)
		mu.Unlock()
		if n == len(duringOutage) && all >= events {
			fmt.Fprintf(out, "store=%s events=%d outage=%s (%d events arrived during it)\n", st.Dialect(), events, outage, len(duringOutage))
			fmt.Fprintf(out, "last event of the outage delivered %s after the receiver came back; all %d delivered\n",
				last.Sub(upAt).Round(time.Millisecond), all)
			fmt.Fprintf(out, "attempts while it was down: %d (first failures and probes)\n", obs.failedAtUp.Load()-obs.failedAtDown.Load())
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d outage events delivered after 10 minutes", n, len(duringOutage))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type attemptCounter struct {
	failed, failedAtDown, failedAtUp atomic.Int64
}

func (a *attemptCounter) DestinationAttempt(outcome string, _ int, _ time.Duration) {
	if outcome != "delivered" {
		a.failed.Add(1)
	}
}
