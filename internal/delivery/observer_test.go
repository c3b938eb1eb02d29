package delivery_test

import (
	"sync"
	"time"
)

type countingObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *countingObserver) DestinationAttempt(outcome string, _ int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[outcome]++
}

func (o *countingObserver) get(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[outcome]
}
