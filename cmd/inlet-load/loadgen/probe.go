package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inlet-dev/inlet/internal/segment"
)

// Probe measures what the audiences contract promises: from the 200 that
// acknowledged an event to the membership change it causes being visible
// through the API. Every Every it sends one event for a new user (so the
// user enters Audience, e.g. "performed Order Completed within 30d") and
// polls GET {API}/users/{userId} until the audience is listed.
type Probe struct {
	WebhookURL string
	Secret     []byte
	API        string // e.g. http://127.0.0.1:8080/api/v1
	Token      string // a read token
	Audience   string
	Event      string        // the track event that makes a new user enter
	Every      time.Duration // one probe per interval (250 ms)
	Poll       time.Duration // API poll interval (10 ms)
	Timeout    time.Duration // a probe not visible by then counts as missed (30 s)
	RunID      string
	Client     *http.Client
}

// ProbeResult is the probes' latencies, 200 to visible.
type ProbeResult struct {
	Latency []time.Duration
	Missed  int // not visible within Timeout
	Failed  int // the event was not acknowledged
}

func (r *ProbeResult) String() string {
	if len(r.Latency) == 0 {
		return fmt.Sprintf("audience probe: no sample (missed %d, not acknowledged %d)", r.Missed, r.Failed)
	}
	l := append([]time.Duration(nil), r.Latency...)
	sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
	q := func(p float64) time.Duration { return l[min(len(l)-1, int(p*float64(len(l))))] }
	return fmt.Sprintf("audience probe (200 → visible in the API): %d samples, p50 %s p95 %s p99 %s max %s, missed %d, not acknowledged %d",
		len(l), q(0.5).Round(time.Millisecond), q(0.95).Round(time.Millisecond), q(0.99).Round(time.Millisecond),
		l[len(l)-1].Round(time.Millisecond), r.Missed, r.Failed)
}

// Run probes until ctx ends, then waits for the probes in flight.
func (p *Probe) Run(ctx context.Context) *ProbeResult {
	if p.Every <= 0 {
		p.Every = 250 * time.Millisecond
	}
	if p.Poll <= 0 {
		p.Poll = 10 * time.Millisecond
	}
	if p.Timeout <= 0 {
		p.Timeout = 30 * time.Second
	}
	if p.Client == nil {
		p.Client = &http.Client{Timeout: 10 * time.Second}
	}
	res := &ProbeResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	tick := time.NewTicker(p.Every)
	defer tick.Stop()
	for i := 0; ctx.Err() == nil; i++ {
		wg.Go(func() {
			d, ok, acked := p.one(i)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case !acked:
				res.Failed++
			case !ok:
				res.Missed++
			default:
				res.Latency = append(res.Latency, d)
			}
		})
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	wg.Wait()
	return res
}

// one runs probe i: it waits for the answer even after the run ends.
func (p *Probe) one(i int) (time.Duration, bool, bool) {
	user := p.RunID + "-probe-" + strconv.Itoa(i)
	now := time.Now().UTC().Format(time.RFC3339Nano)
	ev, _ := json.Marshal(map[string]any{"type": "track", "event": p.Event, "userId": user,
		"messageId": user, "timestamp": now, "sentAt": now, "properties": map[string]any{"probe": true}})
	req, _ := http.NewRequest(http.MethodPost, p.WebhookURL, bytes.NewReader(ev))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign(p.Secret, ev))
	resp, err := p.Client.Do(req)
	if err != nil {
		return 0, false, false
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return 0, false, false
	}
	acked := time.Now()
	for time.Since(acked) < p.Timeout {
		if p.member(user) {
			return time.Since(acked), true, true
		}
		time.Sleep(p.Poll)
	}
	return 0, false, true
}

func (p *Probe) member(user string) bool {
	req, _ := http.NewRequest(http.MethodGet, strings.TrimRight(p.API, "/")+"/users/"+url.PathEscape(user), nil)
	req.Header.Set("Authorization", "Bearer "+p.Token)
	resp, err := p.Client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	var u struct {
		Audiences []struct {
			Key string `json:"key"`
		} `json:"audiences"`
	}
	if json.NewDecoder(resp.Body).Decode(&u) != nil {
		return false
	}
	for _, a := range u.Audiences {
		if a.Key == p.Audience {
			return true
		}
	}
	return false
}
