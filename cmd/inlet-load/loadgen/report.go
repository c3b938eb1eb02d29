package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Result is what a run saw.
type Result struct {
	RunID      string
	Elapsed    time.Duration
	Acked      []string          // messageIds of events in 2xx answers
	GaveUp     int               // events never acknowledged
	Status     map[int]int       // attempts per HTTP status; 0 = no answer
	Errors     map[string]int    // attempts without an answer, by kind
	ErrorText  map[string]string // the first error text of each kind
	Messages   map[int]string    // one refusal message per status
	Latency    []time.Duration
	AckLatency []time.Duration // 2xx answers only
	MaxByCode  map[int]time.Duration
	ByCode     map[int][]time.Duration // latencies per status
	Accepted   int                     // events the server said it newly stored
	Duplicates int                     // events the server said it already held
}

func newResult() *Result {
	return &Result{Status: map[int]int{}, Errors: map[string]int{}, ErrorText: map[string]string{}, Messages: map[int]string{}, MaxByCode: map[int]time.Duration{}, ByCode: map[int][]time.Duration{}}
}

func (r *Result) record(resp Response) {
	r.Status[resp.Status]++
	r.Latency = append(r.Latency, resp.Latency)
	r.MaxByCode[resp.Status] = max(r.MaxByCode[resp.Status], resp.Latency)
	r.ByCode[resp.Status] = append(r.ByCode[resp.Status], resp.Latency)
	if resp.Status >= 200 && resp.Status < 300 {
		r.AckLatency = append(r.AckLatency, resp.Latency)
		r.Accepted += resp.Accepted
		r.Duplicates += resp.Duplicates
	}
	if resp.Status == 0 {
		kind := errorKind(resp.Err)
		r.Errors[kind]++
		if _, ok := r.ErrorText[kind]; !ok && resp.Err != nil {
			r.ErrorText[kind] = resp.Err.Error()
		}
	}
	if resp.Message != "" {
		if _, ok := r.Messages[resp.Status]; !ok {
			r.Messages[resp.Status] = resp.Message
		}
	}
}

func (r *Result) merge(o *Result) {
	r.Acked = append(r.Acked, o.Acked...)
	r.GaveUp += o.GaveUp
	r.Accepted += o.Accepted
	r.Duplicates += o.Duplicates
	for k, v := range o.Status {
		r.Status[k] += v
	}
	for k, v := range o.Errors {
		r.Errors[k] += v
	}
	for k, v := range o.ErrorText {
		if _, ok := r.ErrorText[k]; !ok {
			r.ErrorText[k] = v
		}
	}
	for k, v := range o.Messages {
		if _, ok := r.Messages[k]; !ok {
			r.Messages[k] = v
		}
	}
	for k, v := range o.MaxByCode {
		r.MaxByCode[k] = max(r.MaxByCode[k], v)
	}
	for k, v := range o.ByCode {
		r.ByCode[k] = append(r.ByCode[k], v...)
	}
	r.Latency = append(r.Latency, o.Latency...)
	r.AckLatency = append(r.AckLatency, o.AckLatency...)
}

// errorKind names a transport error in a few words for the report.
func errorKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "unknown"
	case strings.Contains(err.Error(), "server closed idle connection"):
		// The server closed a keep-alive connection (shutdown, idle timeout)
		// as this request went out on it: it was never read.
		return "idle connection closed"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "other"
	}
}

// Count5xx is the number of attempts answered with a 5xx other than 503.
func (r *Result) Count5xx() int {
	n := 0
	for code, c := range r.Status {
		if code >= 500 && code != 503 {
			n += c
		}
	}
	return n
}

// Requests is the number of attempts made.
func (r *Result) Requests() int { return len(r.Latency) }

// EventsPerSecond is acknowledged events per second of the run.
func (r *Result) EventsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Acked)) / r.Elapsed.Seconds()
}

// Percentile returns the p-th percentile (0–100) of ds; ds is sorted in place.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	if !slices.IsSorted(ds) {
		slices.Sort(ds)
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i]
}

// Print writes the human report.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "run %s: %d requests in %s\n", r.RunID, r.Requests(), r.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "acknowledged events: %d (%.0f events/s); never acknowledged: %d\n", len(r.Acked), r.EventsPerSecond(), r.GaveUp)
	if r.Duplicates > 0 {
		fmt.Fprintf(w, "  of which answered as duplicates (stored by an earlier attempt): %d\n", r.Duplicates)
	}
	lat := func(name string, ds []time.Duration) {
		fmt.Fprintf(w, "%s latency: p50 %s  p90 %s  p99 %s  max %s  (n=%d)\n", name,
			ms(Percentile(ds, 50)), ms(Percentile(ds, 90)), ms(Percentile(ds, 99)), ms(Percentile(ds, 100)), len(ds))
	}
	lat("2xx", r.AckLatency)
	lat("all", r.Latency)
	codes := make([]int, 0, len(r.Status))
	for c := range r.Status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		label := fmt.Sprintf("HTTP %d", c)
		if c == 0 {
			label = "no answer"
		}
		ds := r.ByCode[c]
		fmt.Fprintf(w, "  %-10s %8d  p50 %s  p99 %s  max %s", label, r.Status[c], ms(Percentile(ds, 50)), ms(Percentile(ds, 99)), ms(r.MaxByCode[c]))
		if m := r.Messages[c]; m != "" {
			fmt.Fprintf(w, "  %q", m)
		}
		fmt.Fprintln(w)
	}
	kinds := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(w, "    %-20s %8d  e.g. %s\n", strings.TrimSpace(k), r.Errors[k], r.ErrorText[k])
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
