package reliability

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// These tests repeat the attacks of the outside security review (issue 10)
// on a real inlet process and measure its peak RSS. Run one against an
// older binary with INLET_RELIABILITY_BIN=/path/to/inlet for the "before".

// TestUnsignedBodyFlood (review item 6): 600 senders post unsigned 1 MiB
// bodies at once, without pause, half to the webhook and half to the
// Tracking API with the write key at the end of the body, so the server has
// to read each body before it can refuse it. Memory must stay bounded while a
// signed sender keeps getting its events stored.
func TestUnsignedBodyFlood(t *testing.T) {
	needSuite(t)
	dbURL := testdb.PostgresURL(t)
	p := newInlet(t, dbURL, nil)
	p.start()
	base := p.rss()

	junk := bytes.Repeat([]byte("x"), 1<<20-200)
	webhookBody := []byte(`[{"type":"track","event":"E","userId":"u","properties":{"pad":"` + string(junk) + `"}}]`)
	trackingBody := []byte(`{"type":"track","event":"E","userId":"u","properties":{"pad":"` + string(junk) + `"},"writeKey":"not-a-key"}`)

	const attackers = 600
	const duration = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: attackers, MaxConnsPerHost: attackers + 8, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var sent, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target, body := p.webhookURL(), webhookBody
			if i%2 == 1 {
				target, body = p.baseURL()+"/v1/track", trackingBody
			}
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				sent.Add(1)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 400 {
					refused.Add(1)
				}
			}
		}()
	}

	// The signed sender: a fresh event every 200 ms, each must be stored.
	signedClient := &http.Client{Timeout: 10 * time.Second}
	var signedOK, signedTotal int
	var signedFail []string
	time.Sleep(time.Second) // let the flood build up first
	for ctx.Err() == nil {
		signedTotal++
		body := fmt.Sprintf(`{"type":"track","event":"Signed","userId":"u","messageId":"signed-%d"}`, signedTotal)
		mac := hmac.New(sha1.New, []byte(testSecret))
		mac.Write([]byte(body))
		req, _ := http.NewRequest(http.MethodPost, p.webhookURL(), strings.NewReader(body))
		req.Header.Set("X-Signature", hex.EncodeToString(mac.Sum(nil)))
		resp, err := signedClient.Do(req)
		switch {
		case err != nil:
			signedFail = append(signedFail, err.Error())
		case resp.StatusCode/100 == 2:
			signedOK++
		default:
			signedFail = append(signedFail, resp.Status)
		}
		if resp != nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		time.Sleep(200 * time.Millisecond)
	}
	wg.Wait()
	rss := p.peakRSS()
	t.Logf("figures: attackers=%d unsigned_requests=%d refused=%d signed=%d/%d rss_start=%dMB peak_rss=%dMB",
		attackers, sent.Load(), refused.Load(), signedOK, signedTotal, base>>20, rss>>20)
	if sent.Load() < attackers {
		t.Errorf("only %d unsigned requests were sent: the flood proved nothing", sent.Load())
	}
	if signedOK != signedTotal {
		t.Errorf("%d of %d signed requests were not stored during the flood: %v", signedTotal-signedOK, signedTotal, signedFail)
	}
	if rss > 300<<20 {
		t.Errorf("peak RSS %d MB under the flood, want under 300 MB", rss>>20)
	}
}

// TestMetricsLabelFlood (review item 3): 12,000 requests with made-up 30 KB
// methods. Metrics labels must come from fixed sets, so neither /metrics nor
// the server grows with them.
func TestMetricsLabelFlood(t *testing.T) {
	needSuite(t)
	p := newInlet(t, testdb.PostgresURL(t), nil)
	p.start()
	const requests, workers = 12000, 8
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var conn net.Conn
			for next.Add(1) <= requests {
				method := randomMethod(30 << 10)
				if conn == nil {
					c, err := net.Dial("tcp", p.addr)
					if err != nil {
						t.Error(err)
						return
					}
					conn = c
				}
				fmt.Fprintf(conn, "%s /api/public/webhooks/segment HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method)
				io.Copy(io.Discard, conn)
				conn.Close()
				conn = nil
			}
		}()
	}
	wg.Wait()
	resp, err := http.Get(p.baseURL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	rss := p.peakRSS()
	t.Logf("figures: requests=%d metrics_bytes=%d peak_rss=%dMB", requests, n, rss>>20)
	if n > 256<<10 {
		t.Errorf("/metrics is %d bytes after the flood, want under 256 KB", n)
	}
	if rss > 150<<20 {
		t.Errorf("peak RSS %d MB, want under 150 MB", rss>>20)
	}
}

func randomMethod(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + rand.IntN(26))
	}
	return string(b)
}

// TestDeepEventPage (review item 2): one 20 KB event nested 9,000 deep,
// sent with a write key, then /dashboard/events viewed repeatedly. The page
// must stay small and the server's memory bounded.
func TestDeepEventPage(t *testing.T) {
	needSuite(t)
	const email, password = "admin@example.com", "admin-password-123"
	p := newInlet(t, testdb.PostgresURL(t), map[string]string{"ADMIN_EMAIL": email, "ADMIN_PASSWORD": password})
	create := exec.Command(inletBin, "writekey", "create")
	create.Env = p.environ()
	out, err := create.Output()
	if err != nil {
		t.Fatalf("inlet writekey create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	p.start()

	const depth = 9000
	body := `{"type":"track","event":"Deep","userId":"u","messageId":"deep-1","properties":{"x":` +
		strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}}`
	req, _ := http.NewRequest(http.MethodPost, p.baseURL()+"/v1/track", strings.NewReader(body))
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("deep event: %s", resp.Status)
	}

	c := signIn(t, p, email, password)
	var largest int64
	for range 5 {
		resp, err := c.Get(p.baseURL() + "/dashboard/events")
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/dashboard/events: %s", resp.Status)
		}
		largest = max(largest, n)
	}
	rss := p.peakRSS()
	t.Logf("figures: depth=%d event_bytes=%d page_bytes=%d peak_rss=%dMB", depth, len(body), largest, rss>>20)
	if largest > 2<<20 {
		t.Errorf("/dashboard/events is %d bytes with one 20 KB event, want under 2 MB", largest)
	}
	if rss > 150<<20 {
		t.Errorf("peak RSS %d MB, want under 150 MB", rss>>20)
	}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// signIn signs in through the login form and returns a client holding the session.
func signIn(t *testing.T, p *inletProc, email, password string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 60 * time.Second}
	resp, err := c.Get(p.baseURL() + "/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf_token on /login:\n%s", page)
	}
	resp, err = c.PostForm(p.baseURL()+"/login", url.Values{"email": {email}, "password": {password}, "csrf_token": {string(m[1])}})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.HasSuffix(resp.Request.URL.Path, "/login") {
		t.Fatalf("sign-in: %s at %s", resp.Status, resp.Request.URL)
	}
	return c
}
