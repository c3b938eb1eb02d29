package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Config describes one run. Zero values get the defaults noted.
type Config struct {
	URL      string        // the webhook URL, query included
	Secret   []byte        // the shared secret to sign with
	Senders  int           // concurrent senders (64)
	Duration time.Duration // stop starting new requests after this (0: only Events limits)
	Events   int           // stop after this many events (0: only Duration limits)
	Batch    int           // events per request (1)
	Size     int           // bytes per event (1024)
	Retry    bool          // retry 429, 5xx and transport errors like Segment
	RetryFor time.Duration // how long one body keeps being retried (1m)
	RetryCap time.Duration // longest wait between retries; Retry-After is honoured up to it (1s)
	Timeout  time.Duration // per request, as Segment's 5s (10s)
	RunID    string        // messageId prefix (random)
	Rate     float64       // events per second over all senders (0: as fast as they go)
	Client   *http.Client  // optional
	// OnResponse, when set, sees every attempt; it is called concurrently.
	OnResponse func(Response)
}

// Response is one attempt's outcome as the sender saw it.
type Response struct {
	Status     int // 0 when the request got no HTTP answer
	Latency    time.Duration
	Err        error  // transport error, when Status is 0
	RetryAfter string // the Retry-After header, if any
	Message    string // the {"error": ...} text of a refusal
	Events     int
	Accepted   int // from a 2xx answer: events newly stored
	Duplicates int // from a 2xx answer: events already stored (a retry)
}

func (c *Config) defaults() {
	if c.Senders <= 0 {
		c.Senders = 64
	}
	if c.Batch <= 0 {
		c.Batch = 1
	}
	if c.Size <= 0 {
		c.Size = 1024
	}
	if c.RetryFor <= 0 {
		c.RetryFor = time.Minute
	}
	if c.RetryCap <= 0 {
		c.RetryCap = time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	if c.RunID == "" {
		c.RunID = "load-" + strconv.FormatUint(rand.Uint64(), 36)
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: c.Timeout, Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			MaxIdleConns:        4 * c.Senders,
			MaxIdleConnsPerHost: 4 * c.Senders,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		}}
	}
}

// Run sends until Duration or Events is reached or ctx ends, then waits for
// the requests (and retries) still in flight and returns what happened.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.defaults()
	if cfg.URL == "" || len(cfg.Secret) == 0 {
		return nil, errors.New("loadgen: URL and Secret are required")
	}
	if cfg.Duration <= 0 && cfg.Events <= 0 {
		return nil, errors.New("loadgen: set Duration or Events")
	}
	f := &Factory{RunID: cfg.RunID, Secret: cfg.Secret, Size: cfg.Size}
	var stopAt time.Time
	start := time.Now()
	if cfg.Duration > 0 {
		stopAt = start.Add(cfg.Duration)
	}
	var claimed atomic.Int64
	limit := rate.NewLimiter(rate.Inf, 0)
	if cfg.Rate > 0 {
		// A burst of 50 ms worth: with a burst of one, tokens a slow
		// wake-up misses are lost and the rate falls short.
		limit = rate.NewLimiter(rate.Limit(cfg.Rate), max(cfg.Batch, int(cfg.Rate/20)))
	}
	parts := make([]*Result, cfg.Senders)
	var wg sync.WaitGroup
	for s := range cfg.Senders {
		parts[s] = newResult()
		wg.Go(func() {
			r := parts[s]
			seq := 0
			for ctx.Err() == nil && (stopAt.IsZero() || time.Now().Before(stopAt)) {
				k := cfg.Batch
				if cfg.Events > 0 {
					end := claimed.Add(int64(k))
					if over := end - int64(cfg.Events); over > 0 {
						k -= int(over)
					}
					if k <= 0 {
						return
					}
				}
				if limit.WaitN(ctx, k) != nil {
					return
				}
				body := f.Build(s, seq, k, time.Now())
				seq += k
				send(ctx, &cfg, body, r)
			}
		})
	}
	wg.Wait()
	res := newResult()
	for _, p := range parts {
		res.merge(p)
	}
	res.RunID = cfg.RunID
	res.Elapsed = time.Since(start)
	return res, nil
}

// send delivers one body, retrying as configured, and records the outcome.
func send(ctx context.Context, cfg *Config, body Body, r *Result) {
	first := time.Now()
	wait := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		resp := post(ctx, cfg, body)
		r.record(resp)
		if cfg.OnResponse != nil {
			cfg.OnResponse(resp)
		}
		if resp.Status >= 200 && resp.Status < 300 {
			r.Acked = append(r.Acked, body.MessageIDs...)
			return
		}
		retryable := resp.Status == 0 || resp.Status == http.StatusTooManyRequests || resp.Status >= 500
		if !cfg.Retry || !retryable || time.Since(first) > cfg.RetryFor || ctx.Err() != nil {
			r.GaveUp += len(body.MessageIDs)
			return
		}
		d := wait + time.Duration(rand.Int64N(int64(wait)))
		if secs, err := strconv.Atoi(resp.RetryAfter); err == nil && secs > 0 {
			d = time.Duration(secs) * time.Second
		}
		d = min(d, cfg.RetryCap)
		wait = min(2*wait, cfg.RetryCap)
		select {
		case <-time.After(d):
		case <-ctx.Done():
			r.GaveUp += len(body.MessageIDs)
			return
		}
	}
}

func post(ctx context.Context, cfg *Config, body Body) Response {
	out := Response{Events: len(body.MessageIDs)}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body.Bytes))
	if err != nil {
		out.Err = err
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Segment.io/1.0")
	req.Header.Set("X-Signature", body.Signature)
	start := time.Now()
	resp, err := cfg.Client.Do(req)
	if err != nil {
		out.Latency = time.Since(start)
		out.Err = err
		return out
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	out.Latency = time.Since(start)
	if err != nil {
		// The status line came but the answer did not: the sender cannot
		// know what it said, so it counts as no answer, as for Segment.
		out.Err = err
		return out
	}
	out.Status = resp.StatusCode
	out.RetryAfter = resp.Header.Get("Retry-After")
	var answer struct {
		Error      string `json:"error"`
		Accepted   int    `json:"accepted"`
		Duplicates int    `json:"duplicates"`
	}
	_ = json.Unmarshal(b, &answer)
	out.Message, out.Accepted, out.Duplicates = answer.Error, answer.Accepted, answer.Duplicates
	return out
}
