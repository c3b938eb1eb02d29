package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/store"
)

// Result is what one attempt to deliver an event came to.
type Result struct {
	Status     int           // HTTP status; 0 when there was no answer
	Latency    time.Duration // from sending to the answer's end
	RetryAfter time.Duration // the receiver's Retry-After, 0 when absent
	Response   string        // the start of the answer's body (bounded)
	Err        error         // why there was no answer
}

// OK reports a delivered event: any 2xx.
func (r Result) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Reason says in a line why an attempt failed ("" when it did not).
func (r Result) Reason() string {
	switch {
	case r.OK():
		return ""
	case r.Err != nil:
		return describeErr(r.Err)
	case r.Status >= 300 && r.Status < 400:
		return fmt.Sprintf("HTTP %d: redirects are not followed; point the destination at the final URL", r.Status)
	case r.Status == http.StatusGone:
		return "HTTP 410 Gone: the receiver asked to stop; destination paused"
	default:
		return fmt.Sprintf("HTTP %d %s", r.Status, http.StatusText(r.Status))
	}
}

func describeErr(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, ErrRefusedAddress):
		// The guard's own message names the address and the setting.
		for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
			if errors.Is(u, ErrRefusedAddress) && strings.HasPrefix(u.Error(), ErrRefusedAddress.Error()) {
				return u.Error()
			}
		}
		return err.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out waiting for the receiver"
	}
	return "no answer: " + err.Error()
}

// Bounds on reading a receiver's answer: an excerpt for the page, and a
// little more drained so the connection can be reused.
const (
	responseExcerpt = store.MaxAttemptResponse
	drainLimit      = 64 << 10
)

// Sender posts signed events. One Sender (one connection pool) serves every
// destination of the process.
type Sender struct {
	client    *http.Client
	userAgent string
	now       func() time.Time
}

// NewSender builds the HTTP client: the guard checks every address it
// connects to, redirects are not followed (a 3xx is a failed attempt), no
// proxy from the environment is used (the guard must see the real address),
// and every attempt ends within timeout.
func NewSender(guard *NetGuard, timeout time.Duration, maxConnsPerHost int, version string) *Sender {
	if guard == nil {
		guard = &NetGuard{}
	}
	dialer := &net.Dialer{Timeout: min(timeout, 10*time.Second), KeepAlive: 30 * time.Second, Control: guard.control}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   max(maxConnsPerHost, 2),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &Sender{
		client: &http.Client{
			Transport:     tr,
			Timeout:       timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		userAgent: "Inlet/" + version + " (Standard Webhooks)",
		now:       time.Now,
	}
}

// Send posts body to url with the Standard Webhooks headers: webhook-id
// (the same on every attempt), webhook-timestamp (this attempt) and
// webhook-signature (one v1 signature per secret).
func (s *Sender) Send(ctx context.Context, url string, secrets []string, webhookID string, body []byte) Result {
	ts := s.now().Unix()
	sig, err := Sign(secrets, webhookID, ts, body)
	if err != nil {
		return Result{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.userAgent)
	req.Header.Set("webhook-id", webhookID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Err: err, Latency: time.Since(start)}
	}
	defer resp.Body.Close()
	head := make([]byte, responseExcerpt)
	n, _ := io.ReadFull(resp.Body, head)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	r := Result{Status: resp.StatusCode, Latency: time.Since(start), Response: excerpt(head[:n])}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 || resp.StatusCode == http.StatusServiceUnavailable {
		r.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	}
	return r
}

// excerpt keeps valid UTF-8 only; pages escape it when they show it.
func excerpt(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// maxRetryAfter bounds how long a receiver can ask Inlet to wait.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		d = time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}
