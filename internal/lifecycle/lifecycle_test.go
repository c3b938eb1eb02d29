package lifecycle_test

import (
	"context"
	"errors"
	"testing"

	"github.com/inlet-dev/inlet/internal/lifecycle"
)

func TestStopCancelsAndWaitsForEveryGoroutine(t *testing.T) {
	t.Parallel()
	g := lifecycle.New(context.Background(), "test")
	ended := make(chan int, 3)
	started := make(chan struct{})
	g.Go(func(ctx context.Context) {
		// A worker that starts a worker, as the delivery manager does.
		g.Go(func(ctx context.Context) { <-ctx.Done(); ended <- 2 })
		close(started)
		<-ctx.Done()
		ended <- 1
	})
	g.Go(func(ctx context.Context) { <-ctx.Done(); ended <- 3 })
	<-started
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Stop returned: every goroutine has ended, none is still running.
	if len(ended) != 3 {
		t.Fatalf("Stop returned with %d of 3 goroutines ended", len(ended))
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if g.Go(func(context.Context) { t.Error("ran after Stop") }) {
		t.Fatal("Go after Stop reported it started")
	}
}

func TestStopGivesUpAtTheDeadline(t *testing.T) {
	t.Parallel()
	g := lifecycle.New(context.Background(), "stuck worker")
	release := make(chan struct{})
	g.Go(func(context.Context) { <-release }) // ignores its context
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := g.Stop(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Stop past the deadline = %v, want context.Canceled", err)
	}
	close(release)
	if err := g.Stop(context.Background()); err != nil {
		t.Fatalf("Stop once the worker ended: %v", err)
	}
}

func TestParentContextEndsTheGroup(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancel(context.Background())
	g := lifecycle.New(parent, "test")
	ended := make(chan struct{})
	g.Go(func(ctx context.Context) { <-ctx.Done(); close(ended) })
	cancel()
	<-ended
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStopOfANilGroup(t *testing.T) {
	t.Parallel()
	var g *lifecycle.Group // a worker that was never started
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
