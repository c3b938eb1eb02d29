package reliability

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgCluster is a throwaway PostgreSQL server of the test's own, so the test
// can stop it hard and start it again without touching anyone else's.
type pgCluster struct {
	t       *testing.T
	bin     string // folder with initdb and pg_ctl
	dir     string
	port    int
	runAs   []string // prefix to run the tools as the postgres user when root
	logPath string
}

// newPGCluster initialises and starts a cluster in a temp dir on a free
// port. It skips the test (fails under CI=true) when PostgreSQL's server
// binaries are not installed.
func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			found = []string{p}
		}
	}
	if len(found) == 0 {
		skipOrFail(t, "no PostgreSQL server binaries (initdb, pg_ctl) to run a throwaway cluster")
	}
	sort.Strings(found)
	c := &pgCluster{t: t, bin: filepath.Dir(found[len(found)-1])}
	dir, err := os.MkdirTemp("", "inlet-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	c.logPath = filepath.Join(dir, "postgres.log")
	t.Cleanup(func() {
		_ = c.pgctl("stop", "-m", "immediate")
		os.RemoveAll(dir)
	})
	// initdb refuses to run as root; run the tools as postgres then.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, "running as root and there is no postgres user to run a throwaway cluster as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			skipOrFail(t, "running as root without runuser to start PostgreSQL as postgres")
		}
		c.runAs = []string{runuser, "-u", "postgres", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if out, err := c.run(filepath.Join(c.bin, "initdb"), "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.start()
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the cluster's postgres database.
func (c *pgCluster) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// start starts the server and waits until it accepts connections.
func (c *pgCluster) start() {
	c.t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=60 -c shared_buffers=32MB", c.port, c.dir)
	if err := c.pgctl("start", "-w", "-t", "60", "-l", c.logPath, "-o", opts); err != nil {
		log, _ := os.ReadFile(c.logPath)
		c.t.Fatalf("pg_ctl start: %v\n%s", err, log)
	}
}

// crash stops the server at once, as a crash or a lost host would: open
// connections break, nothing is flushed politely.
func (c *pgCluster) crash() {
	c.t.Helper()
	if err := c.pgctl("stop", "-m", "immediate", "-w"); err != nil {
		c.t.Fatalf("pg_ctl stop: %v", err)
	}
}

func (c *pgCluster) pgctl(args ...string) error {
	out, err := c.run(filepath.Join(c.bin, "pg_ctl"), append([]string{"-D", c.data()}, args...)...)
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (c *pgCluster) run(name string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, c.runAs...), name), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.dir
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
		return out, err
	case <-time.After(90 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return out, fmt.Errorf("%s did not finish within 90s", filepath.Base(name))
	}
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip("skipping: " + why)
}
