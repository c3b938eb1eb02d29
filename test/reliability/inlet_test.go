package reliability

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testutil"
)

// testSecret is the shared secret every test's workspace gets.
const testSecret = "reliability-shared-secret-0123456789"

// inletProc is one inlet server process; it can be killed and started again
// on the same address and database.
type inletProc struct {
	t       *testing.T
	dbURL   string
	addr    string // 127.0.0.1:port, the same across restarts
	env     map[string]string
	logPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	starts  int
}

// newInlet prepares a server for dbURL (migrated and given testSecret by
// `inlet secret set`, as an operator would) without starting it.
func newInlet(t *testing.T, dbURL string, env map[string]string) *inletProc {
	t.Helper()
	p := &inletProc{t: t, dbURL: dbURL, addr: freeAddr(t), env: env, logPath: filepath.Join(t.TempDir(), "inlet.log")}
	set := exec.Command(inletBin, "secret", "set")
	set.Env = p.environ()
	set.Stdin = strings.NewReader(testSecret)
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("inlet secret set: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if p.running() {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			b, _ := os.ReadFile(p.logPath)
			if len(b) > 8000 {
				b = b[len(b)-8000:]
			}
			t.Logf("inlet log (tail):\n%s", b)
		}
	})
	return p
}

func (p *inletProc) environ() []string {
	env := map[string]string{
		"PATH": os.Getenv("PATH"), "HOME": os.Getenv("HOME"), "TMPDIR": os.Getenv("TMPDIR"),
		"DATABASE_URL": p.dbURL, "LISTEN_ADDR": p.addr, "LOG_LEVEL": "warn",
		"BASE_URL": "http://" + p.addr, "DATA_DIR": p.t.TempDir(),
	}
	for k, v := range p.env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// start runs the server and waits until it answers /healthz.
func (p *inletProc) start() {
	p.t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.t.Fatal(err)
	}
	fmt.Fprintf(logf, "--- start %d at %s\n", p.starts+1, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(inletBin)
	cmd.Env = p.environ()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start inlet: %v", err)
	}
	p.cmd, p.exited, p.starts = cmd, make(chan struct{}), p.starts+1
	go func() {
		p.exitErr = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	testutil.WaitWithin(p.t, 30*time.Second, "inlet to answer /healthz", func() bool {
		if !p.running() {
			p.t.Fatalf("inlet exited during start: %v", p.exitErr)
		}
		resp, err := http.Get(p.baseURL() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (p *inletProc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL: no shutdown code runs, as in a crash or an OOM kill.
func (p *inletProc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("kill -9: %v", err)
	}
	<-p.exited
}

// terminate sends SIGTERM and returns how long the process took to exit and
// its exit error; it fails the test if the process outlives limit.
func (p *inletProc) terminate(limit time.Duration) (time.Duration, error) {
	p.t.Helper()
	start := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.exited:
		return time.Since(start), p.exitErr
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.t.Fatalf("inlet did not exit within %s of SIGTERM", limit)
		return 0, nil
	}
}

// peakRSS is the process's high-water resident memory (VmHWM) in bytes.
func (p *inletProc) peakRSS() int64 { return p.procStatus("VmHWM:") }

// procStatus reads one size field of /proc/PID/status in bytes.
func (p *inletProc) procStatus(field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if f := strings.Fields(string(line)); len(f) >= 2 && f[0] == field {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return -1
}

// rss is the process's current resident memory (VmRSS) in bytes.
func (p *inletProc) rss() int64 { return p.procStatus("VmRSS:") }

func (p *inletProc) baseURL() string    { return "http://" + p.addr }
func (p *inletProc) webhookURL() string { return p.baseURL() + "/api/public/webhooks/segment" }

// freeAddr picks a loopback port nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ctxFor is a context that ends with the test.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
