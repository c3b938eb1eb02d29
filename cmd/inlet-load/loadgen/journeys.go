package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/inlet-dev/inlet/internal/segment"
)

// Journeys drives the journey figures of docs/benchmarks.md against a
// running server whose SMTP_URL points at SMTPAddr (smtp://SMTPAddr?tls=none):
// it creates a template, a group, a probe journey (an email on "Probe
// Signed Up", no wait) and Others more enabled journeys on events the load
// never carries, over the API with a write token; it receives the email
// itself on an SMTP sink.
type Journeys struct {
	API      string // the server's base URL
	Token    string // a write API token
	SMTPAddr string // where the sink listens
	Others   int    // enabled journeys besides the probe
	Webhook  string // the webhook URL and secret, for probe events
	Secret   []byte

	mu     sync.Mutex
	posted map[string]time.Time // probe messageId → when it was acknowledged
	lat    []time.Duration
	emails int
}

// Setup starts the sink and creates what the journeys need.
func (j *Journeys) Setup(ctx context.Context) (stop func(), err error) {
	j.posted = map[string]time.Time{}
	l, err := net.Listen("tcp", j.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("smtp sink: %w", err)
	}
	srv := smtp.NewServer(sinkBackend{j})
	srv.Domain, srv.ReadTimeout, srv.WriteTimeout = "localhost", time.Minute, time.Minute
	go func() { _ = srv.Serve(l) }()
	stop = func() { _ = srv.Close() }
	steps := []struct{ path, body string }{
		{"/api/v1/templates", `{"key":"probe","subject":"probe {{ event.messageId }}","html":"<p>Hi {{ user.traits.email }}</p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a>"}`},
		{"/api/v1/subscription-groups", `{"key":"news","name":"News"}`},
		{"/api/v1/journeys", j.definition("probe", "Probe Signed Up", true)},
	}
	for i := range j.Others {
		steps = append(steps, struct{ path, body string }{"/api/v1/journeys", j.definition("other"+strconv.Itoa(i), "Other "+strconv.Itoa(i), true)})
	}
	for _, s := range steps {
		if err := j.call(ctx, http.MethodPost, s.path, s.body); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

func (j *Journeys) definition(key, event string, enabled bool) string {
	return fmt.Sprintf(`{"key":%q,"name":%q,"enabled":%v,"reentry":"always","trigger":{"event":{"event":%q}},`+
		`"steps":[{"id":"mail","email":{"template":"probe","group":"news"}}]}`, key, key, enabled, event)
}

// EnableProbe turns the probe journey on or off.
func (j *Journeys) EnableProbe(ctx context.Context, on bool) error {
	return j.call(ctx, http.MethodPut, "/api/v1/journeys/probe", j.definition("probe", "Probe Signed Up", on))
}

// EnableOthers turns the other journeys on or off.
func (j *Journeys) EnableOthers(ctx context.Context, on bool) error {
	for i := range j.Others {
		key := "other" + strconv.Itoa(i)
		if err := j.call(ctx, http.MethodPut, "/api/v1/journeys/"+key, j.definition(key, "Other "+strconv.Itoa(i), on)); err != nil {
			return err
		}
	}
	return nil
}

func (j *Journeys) call(ctx context.Context, method, path, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(j.API, "/")+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+j.Token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	return nil
}

// Probe posts one sign-up a 1/perSecond apart until ctx ends: an identify
// with an address and the track event that triggers the probe journey, in
// one signed body. Latency runs from the request's start to the email's
// arrival at the sink.
func (j *Journeys) Probe(ctx context.Context, perSecond int, runID string) {
	t := time.NewTicker(time.Second / time.Duration(max(1, perSecond)))
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		u := runID + "-p" + strconv.Itoa(i)
		now := time.Now().UTC().Format(time.RFC3339Nano)
		body := []byte(`[{"type":"identify","messageId":"` + u + `-id","userId":"` + u + `","timestamp":"` + now + `","traits":{"email":"` + u + `@example.org"}},` +
			`{"type":"track","messageId":"` + u + `","userId":"` + u + `","event":"Probe Signed Up","timestamp":"` + now + `","properties":{}}]`)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.Webhook, bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", segment.Sign(j.Secret, body))
		// From before the request: the email may arrive before the answer.
		j.mu.Lock()
		j.posted[u] = time.Now()
		j.mu.Unlock()
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		if err != nil || res.StatusCode >= 300 {
			j.mu.Lock()
			delete(j.posted, u)
			j.mu.Unlock()
		}
	}
}

// Wait gives outstanding probe emails until timeout to arrive.
func (j *Journeys) Wait(timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		j.mu.Lock()
		left := len(j.posted)
		j.mu.Unlock()
		if left == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Report is the probe latency: emails received, probes never answered,
// p50/p95/p99 from the probe's request to the email's arrival.
func (j *Journeys) Report() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	l := slices.Clone(j.lat)
	slices.Sort(l)
	q := func(p float64) time.Duration {
		if len(l) == 0 {
			return 0
		}
		return l[min(len(l)-1, int(p*float64(len(l))))].Round(time.Millisecond)
	}
	return fmt.Sprintf("event to email: %d probe emails, %d not arrived, p50 %s p95 %s p99 %s max %s (sink received %d emails)",
		len(l), len(j.posted), q(0.5), q(0.95), q(0.99), q(1), j.emails)
}

type sinkBackend struct{ j *Journeys }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{j: b.j}, nil }

type sinkSession struct{ j *Journeys }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Reset()                               {}
func (s *sinkSession) Logout() error                        { return nil }

func (s *sinkSession) Data(r io.Reader) error {
	at := time.Now()
	raw, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("sink: message does not parse")
	}
	id, _ := strings.CutPrefix(m.Header.Get("Subject"), "probe ")
	j := s.j
	j.mu.Lock()
	defer j.mu.Unlock()
	j.emails++
	if t, ok := j.posted[id]; ok {
		j.lat = append(j.lat, at.Sub(t))
		delete(j.posted, id)
	}
	return nil
}
