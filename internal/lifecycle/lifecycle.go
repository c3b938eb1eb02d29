// Package lifecycle is the one start/stop shape of Inlet's background
// workers (ingest writers, profiles follower, delivery manager, status
// flusher, retention): goroutines started under one context, and a Stop
// that cancels that context and waits for all of them, at most until the
// caller's deadline.
//
// The semantics, the same for every worker:
//   - Go may be called before or after the first goroutine runs, also from
//     inside a running goroutine (a worker that starts workers);
//   - Stop cancels the context every goroutine got, then waits for all of
//     them; it returns an error wrapping ctx.Err() when ctx ends first (the
//     goroutines keep ending in the background);
//   - Stop is safe to call more than once, and before anything was started;
//   - Go after Stop runs nothing.
package lifecycle

import (
	"context"
	"fmt"
	"sync"
)

// Group runs goroutines that stop together. The zero value is not usable:
// make one with New.
type Group struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// New returns a group whose goroutines get a context that ends when parent
// ends or Stop is called. name prefixes Stop's error.
func New(parent context.Context, name string) *Group {
	ctx, cancel := context.WithCancel(parent)
	return &Group{name: name, ctx: ctx, cancel: cancel}
}

// Go runs fn in a goroutine of the group; fn should return soon after its
// context ends. It reports false (and runs nothing) once the group stopped.
func (g *Group) Go(fn func(ctx context.Context)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return false
	}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		fn(g.ctx)
	}()
	return true
}

// Stop cancels the group's context and waits for every goroutine to
// return, at most until ctx ends. A nil group is stopped already.
func (g *Group) Stop(ctx context.Context) error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	g.stopped = true
	g.mu.Unlock()
	g.cancel()
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: did not stop before the deadline: %w", g.name, ctx.Err())
	}
}
