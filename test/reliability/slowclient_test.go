package reliability

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/cmd/inlet-load/loadgen"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/jackc/pgx/v5"
)

const slowReadTimeout = 2 * time.Second

// TestSlowClients sends requests the way a broken or hostile client would:
// trickling or abandoning a body, never finishing the headers, oversized
// headers and bodies. Each must be cut off by the read timeout or refused by
// a size limit, and none may hold anything the senders behind it need.
func TestSlowClients(t *testing.T) {
	needSuite(t)
	dbURL := testdb.PostgresURL(t)
	p := newInlet(t, dbURL, map[string]string{"READ_TIMEOUT": slowReadTimeout.String(), "MAX_BODY_BYTES": "65536"})
	p.start()
	f := &loadgen.Factory{RunID: "slow", Secret: []byte(testSecret), Size: 1024}
	body := f.Build(0, 0, 1, time.Now())
	head := func(length string) string {
		return "POST /api/public/webhooks/segment HTTP/1.1\r\nHost: " + p.addr + "\r\nContent-Type: application/json\r\n" +
			"X-Signature: " + body.Signature + "\r\n" + length + "\r\n"
	}
	cl := fmt.Sprintf("Content-Length: %d\r\n", len(body.Bytes))

	t.Run("trickled_body", func(t *testing.T) {
		c := dial(t, p.addr)
		write(t, c, head(cl))
		go func() { // one byte every 100 ms: the whole body would take 100 s
			for _, b := range body.Bytes {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		mustBeCutOff(t, c, "408")
	})
	t.Run("abandoned_body", func(t *testing.T) {
		c := dial(t, p.addr)
		write(t, c, head(cl)+string(body.Bytes[:100]))
		mustBeCutOff(t, c, "408")
	})
	t.Run("unfinished_headers", func(t *testing.T) {
		c := dial(t, p.addr)
		write(t, c, "POST /api/public/webhooks/segment HTTP/1.1\r\nHost: "+p.addr+"\r\nX-Signature: ")
		mustBeCutOff(t, c, "")
	})
	t.Run("stalled_clients_do_not_hold_workers_or_connections", func(t *testing.T) {
		const stalled = 200
		conns := make([]net.Conn, stalled)
		for i := range conns {
			conns[i] = dial(t, p.addr)
			write(t, conns[i], head(cl)+string(body.Bytes[:10]))
		}
		// While they all hang, ordinary senders must be served as usual.
		res := startLoad(ctxFor(t, time.Minute), loadConfig(p, "beside-stalled", 16, 1500*time.Millisecond, false)).wait(t)
		v := mustBeStoredOnce(t, dbURL, res)
		if res.Status[http.StatusOK] != res.Requests() {
			t.Errorf("beside stalled clients: %v, want only 200s", res.Status)
		}
		if p99 := loadgen.Percentile(res.AckLatency, 99); p99 > time.Second {
			t.Errorf("beside stalled clients p99 = %s, want under 1s", p99)
		}
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() { mustBeCutOff(t, c, "408") })
		}
		wg.Wait()
		t.Logf("figures: %d stalled clients cut off; beside them %s, p99 %s", stalled, summary(res, v), loadgen.Percentile(res.AckLatency, 99))
	})
	t.Run("header_over_64KB", func(t *testing.T) {
		c := dial(t, p.addr)
		write(t, c, head(cl)[:len(head(cl))-2]+"X-Pad: "+strings.Repeat("a", 70<<10)+"\r\n\r\n")
		mustAnswer(t, c, "431")
	})
	t.Run("body_over_limit_by_content_length", func(t *testing.T) {
		c := dial(t, p.addr)
		write(t, c, head("Content-Length: 100000\r\n")) // the body is never sent: the answer must not wait for it
		mustAnswer(t, c, "413")
	})
	t.Run("body_over_limit_chunked", func(t *testing.T) {
		c := dial(t, p.addr)
		chunk := strings.Repeat("x", 8192)
		go func() {
			if _, err := io.WriteString(c, head("Transfer-Encoding: chunked\r\n")); err != nil {
				return
			}
			for range 13 { // 104 KB
				if _, err := fmt.Fprintf(c, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
					return
				}
			}
			_, _ = io.WriteString(c, "0\r\n\r\n")
		}()
		mustAnswer(t, c, "413")
	})
	// None of those bodies was complete and valid, so none may be stored.
	conn, err := pgx.Connect(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM events WHERE message_id LIKE 'slow-%'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d events from unfinished requests were stored", n)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// mustBeCutOff waits for the server to close c, which it must do within the
// read timeout (plus scheduling slack). wantStatus is the status the server
// may send first ("" when it closes silently).
func mustBeCutOff(t *testing.T, c net.Conn, wantStatus string) {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(slowReadTimeout + 5*time.Second))
	status, err := readAll(c)
	took := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("connection still open %s later: the read timeout did not cut it off", took.Round(time.Millisecond))
		return
	}
	if took > slowReadTimeout+3*time.Second {
		t.Errorf("cut off after %s, want about %s", took.Round(time.Millisecond), slowReadTimeout)
	}
	if wantStatus != "" && status != "" && !strings.Contains(status, wantStatus) {
		t.Errorf("answer before closing: %q, want status %s", status, wantStatus)
	}
}

// mustAnswer reads the status line, which must carry want, well before the
// read timeout: a refusal must not wait for a body it will not use.
func mustAnswer(t *testing.T, c net.Conn, want string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(slowReadTimeout * 3 / 4))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if !strings.Contains(line, " "+want+" ") {
		t.Fatalf("answer %q, want status %s", strings.TrimSpace(line), want)
	}
}

// readAll reads until the server closes the connection and returns the
// status line it sent, if any.
func readAll(c net.Conn) (string, error) {
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			return strings.TrimSpace(line), nil
		}
		return "", err
	}
	_, err = io.Copy(io.Discard, r)
	return strings.TrimSpace(line), err
}
