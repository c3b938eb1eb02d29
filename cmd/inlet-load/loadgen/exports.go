package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Exports is a background load of API readers: Clients loops, each
// downloading URL (an /api/v1 export or list) with one of Tokens again and
// again, waiting out 429's Retry-After, until the context ends. It measures
// what a read token can do to ingestion running beside it.
type Exports struct {
	URL     string
	Tokens  []string // client i uses Tokens[i % len(Tokens)]
	Clients int
	Gzip    bool
}

// ExportResult counts what the readers got.
type ExportResult struct {
	Completed  int64 // whole answers read
	Refused    int64 // 429 answers
	Failed     int64 // other answers or transport errors
	Bytes      int64 // body bytes read
	MaxRunning int64 // most downloads in progress at once
}

func (r *ExportResult) String() string {
	return fmt.Sprintf("API readers: %d answers read whole (%.1f MB), %d refused with 429, %d failed; at most %d downloads at once",
		r.Completed, float64(r.Bytes)/1e6, r.Refused, r.Failed, r.MaxRunning)
}

// Run runs the readers until ctx ends.
func (x Exports) Run(ctx context.Context) *ExportResult {
	res := &ExportResult{}
	var running atomic.Int64
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: x.Clients, DisableCompression: !x.Gzip}}
	var wg sync.WaitGroup
	for i := range x.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token := x.Tokens[i%len(x.Tokens)]
			for ctx.Err() == nil {
				wait := x.once(ctx, client, token, res, &running)
				if wait > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(wait):
					}
				}
			}
		}()
	}
	wg.Wait()
	return res
}

// once downloads the URL one time and says how long to wait before the next.
func (x Exports) once(ctx context.Context, client *http.Client, token string, res *ExportResult, running *atomic.Int64) time.Duration {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, x.URL, nil)
	if err != nil {
		atomic.AddInt64(&res.Failed, 1)
		return time.Second
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			atomic.AddInt64(&res.Failed, 1)
		}
		return 100 * time.Millisecond
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		n := running.Add(1)
		for {
			m := atomic.LoadInt64(&res.MaxRunning)
			if n <= m || atomic.CompareAndSwapInt64(&res.MaxRunning, m, n) {
				break
			}
		}
		b, err := io.Copy(io.Discard, resp.Body)
		running.Add(-1)
		atomic.AddInt64(&res.Bytes, b)
		if err == nil {
			atomic.AddInt64(&res.Completed, 1)
		} else if ctx.Err() == nil {
			atomic.AddInt64(&res.Failed, 1)
		}
		return 0
	case http.StatusTooManyRequests:
		atomic.AddInt64(&res.Refused, 1)
		_, _ = io.Copy(io.Discard, resp.Body)
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return time.Duration(max(secs, 1)) * time.Second
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	atomic.AddInt64(&res.Failed, 1)
	return time.Second
}
