package api

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// Limits bound what API reads (lists and exports) may take, so that a read
// token can neither exhaust memory nor starve ingestion.
type Limits struct {
	// Global is how many list and export requests run at once, all tokens
	// together (default 32); PerToken how many of them one token may run
	// (default 8). Past either the answer is 429 with Retry-After.
	// Single-profile GETs and erasures are not counted.
	Global, PerToken int
	// DBShare is how many database queries API reads run at once (default:
	// a quarter of the pool, at least 1); the others wait their turn, so
	// ingestion always finds free connections.
	DBShare int
}

// DefaultLimits are the limits used when a field is 0.
var DefaultLimits = Limits{Global: 32, PerToken: 8}

func (l Limits) withDefaults(st *store.Store) Limits {
	if l.Global <= 0 {
		l.Global = DefaultLimits.Global
	}
	if l.PerToken <= 0 {
		l.PerToken = DefaultLimits.PerToken
	}
	if l.DBShare <= 0 {
		l.DBShare = max(1, st.PoolStats().MaxOpenConnections/4)
	}
	return l
}

// chunk is how many events or profiles one query of a list or export reads:
// with events of at most 32 KB it bounds the memory one request holds to a
// few megabytes, whatever its limit.
const chunk = 50

// retryAfter is the Retry-After of a refused read, in seconds.
const retryAfter = 1

// Budget counts the list and export requests running, in total and per token.
type Budget struct {
	global, perToken int

	mu      sync.Mutex
	running int
	byToken map[uuid.UUID]int
}

// NewBudget admits global requests at once, perToken of them per token.
func NewBudget(global, perToken int) *Budget {
	return &Budget{global: global, perToken: perToken, byToken: map[uuid.UUID]int{}}
}

// Admit counts one request of token, or refuses it (apperr.TooMany) when
// the token or everyone together already runs as many as allowed. release
// must be called once the answer is written.
func (b *Budget) Admit(token uuid.UUID) (release func(), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byToken[token] >= b.perToken {
		return nil, &apperr.Error{Code: apperr.TooMany, RetryAfter: retryAfter,
			Msg: fmt.Sprintf("this API token already runs %d reads or exports at once; wait for one to finish", b.perToken)}
	}
	if b.running >= b.global {
		return nil, &apperr.Error{Code: apperr.TooMany, RetryAfter: retryAfter,
			Msg: "too many API reads and exports at once, try again"}
	}
	b.running++
	b.byToken[token]++
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.running--
			if b.byToken[token]--; b.byToken[token] <= 0 {
				delete(b.byToken, token)
			}
		})
	}, nil
}

// reads is the store as lists and exports see it: at most share queries at
// once. A request waits for its turn (or its context), page by page, so a
// long export lets others in between its pages.
type reads struct {
	st   *store.Store
	slot chan struct{}
}

func newReads(st *store.Store, share int) *reads {
	return &reads{st: st, slot: make(chan struct{}, share)}
}

func (r *reads) acquire(ctx context.Context) error {
	select {
	case r.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a database slot: %w", ctx.Err())
	}
}

func (r *reads) release() { <-r.slot }

// ListEvents is store.ListEvents in turn (export.Lister).
func (r *reads) ListEvents(ctx context.Context, f store.EventFilter) (store.EventPage, error) {
	if err := r.acquire(ctx); err != nil {
		return store.EventPage{}, err
	}
	defer r.release()
	return r.st.ListEvents(ctx, f)
}

// profiles reads one page of profiles with their views, in turn.
func (r *reads) profiles(ctx context.Context, ws uuid.UUID, f store.ProfileFilter) ([]profiles.View, *store.ProfileCursorPos, error) {
	if err := r.acquire(ctx); err != nil {
		return nil, nil, err
	}
	defer r.release()
	rows, next, err := r.st.ListProfiles(ctx, ws, f)
	if err != nil {
		return nil, nil, fmt.Errorf("list profiles: %w", err)
	}
	views, err := profiles.Views(ctx, r.st, ws, rows)
	if err != nil {
		return nil, nil, fmt.Errorf("profile views: %w", err)
	}
	return views, next, nil
}
