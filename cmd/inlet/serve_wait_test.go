package main

import (
	"context"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// serveRun is `inlet serve` (or another command) running in the background
// with its log and result observable.
type serveRun struct {
	logs *syncBuffer
	done chan error
	stop context.CancelFunc
}

func startRun(t *testing.T, env map[string]string, args ...string) *serveRun {
	t.Helper()
	full := map[string]string{"LISTEN_ADDR": "127.0.0.1:" + freePort(t), "LOG_FORMAT": "json"}
	for k, v := range env {
		full[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &serveRun{logs: &syncBuffer{}, done: make(chan error, 1), stop: cancel}
	go func() {
		r.done <- run(ctx, args, func(k string) string { return full[k] }, strings.NewReader(""), r.logs, r.logs)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s")
		}
	})
	return r
}

// waitLog waits until the log holds substr; it fails if the run ends first.
func (r *serveRun) waitLog(t *testing.T, substr string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for !strings.Contains(r.logs.String(), substr) {
		select {
		case err := <-r.done:
			r.done <- err
			t.Fatalf("stopped (%v) before logging %q:\n%s", err, substr, r.logs)
		case <-deadline:
			t.Fatalf("no %q within %v:\n%s", substr, within, r.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// result waits for the run to end and says how long that took from now.
func (r *serveRun) result(t *testing.T, within time.Duration) (error, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case err := <-r.done:
		r.done <- err
		return err, time.Since(start)
	case <-time.After(within):
		t.Fatalf("still running after %v:\n%s", within, r.logs)
		return nil, 0
	}
}

// fakePostgres listens where DATABASE_URL points. While starting is true it
// answers every connection as a PostgreSQL that is starting up (FATAL
// 57P03); then it forwards connections to the real test server.
type fakePostgres struct {
	ln       net.Listener
	real     string
	starting atomic.Bool
	refused  atomic.Int64 // connections answered with 57P03
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn // closed at cleanup, so forwarding goroutines end
}

func listenFakePostgres(t *testing.T, addr, real string) *fakePostgres {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	f := &fakePostgres{ln: ln, real: real}
	f.starting.Store(true)
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() { defer f.wg.Done(); f.serve(c) }()
		}
	}()
	return f
}

func (f *fakePostgres) serve(c net.Conn) {
	defer c.Close()
	if f.starting.Load() {
		be := pgproto3.NewBackend(c, c)
		if _, err := be.ReceiveStartupMessage(); err != nil {
			return
		}
		be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "57P03", Message: "the database system is starting up"})
		_ = be.Flush()
		f.refused.Add(1)
		return
	}
	up, err := net.Dial("tcp", f.real)
	if err != nil {
		return
	}
	f.mu.Lock()
	f.conns = append(f.conns, up)
	f.mu.Unlock()
	defer up.Close()
	go func() { _, _ = io.Copy(up, c); up.Close() }()
	_, _ = io.Copy(c, up)
}

// pointAt returns rawURL with its host replaced by hostport.
func pointAt(t *testing.T, rawURL, hostport string) (string, string) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	real := u.Host
	u.Host = hostport
	q := u.Query()
	q.Set("sslmode", "disable")
	u.RawQuery = q.Encode()
	return u.String(), real
}

// Issue 19 item 11: serve waits for PostgreSQL while it refuses
// connections, then while it says it is starting up, with a clear
// DATABASE_WAIT line, and starts once it accepts.
func TestServeWaitsForAStartingPostgreSQL(t *testing.T) {
	t.Parallel()
	addr := "127.0.0.1:" + freePort(t)
	dsn, real := pointAt(t, testdb.PostgresURL(t), addr)
	r := startRun(t, map[string]string{"DATABASE_URL": dsn, "DATABASE_WAIT": "60s"})

	// Nothing listens: connections are refused.
	r.waitLog(t, "DATABASE_WAIT: PostgreSQL is not accepting connections yet", 20*time.Second)
	// A PostgreSQL that is starting answers 57P03.
	fake := listenFakePostgres(t, addr, real)
	for fake.refused.Load() < 2 {
		select {
		case err := <-r.done:
			t.Fatalf("serve gave up on a PostgreSQL that is starting up: %v\n%s", err, r.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// It is up.
	fake.starting.Store(false)
	r.waitLog(t, `"msg":"inlet listening"`, 30*time.Second)
	if !strings.Contains(r.logs.String(), "DATABASE_WAIT: PostgreSQL accepts connections") {
		t.Errorf("no line saying the wait is over:\n%s", r.logs)
	}
}

// What waiting cannot fix stops serve at once: bad credentials, an unknown
// database, a SQLite error; a wait that runs out says DATABASE_WAIT; and
// commands other than serve never wait.
func TestServeDoesNotWaitForWhatWaitingCannotFix(t *testing.T) {
	t.Parallel()
	base := testdb.PostgresURL(t)
	withPath := func(user, db string) string {
		u, _ := url.Parse(base)
		u.User = url.User(user)
		u.Path = "/" + db
		return u.String()
	}
	u, _ := url.Parse(base)
	notAFolder := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notAFolder, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused, _ := pointAt(t, base, "127.0.0.1:"+freePort(t))

	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown database", map[string]string{"DATABASE_URL": withPath(u.User.Username(), "inlet_no_such_database")}, nil, "inlet_no_such_database"},
		{"bad credentials", map[string]string{"DATABASE_URL": withPath("inlet_no_such_role", strings.TrimPrefix(u.Path, "/"))}, nil, "inlet_no_such_role"},
		{"sqlite error", map[string]string{"DATA_DIR": notAFolder}, nil, notAFolder},
		{"a command never waits", map[string]string{"DATABASE_URL": refused}, []string{"writekey", "list"}, "refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATABASE_WAIT": "60s"}
			for k, v := range tc.env {
				env[k] = v
			}
			r := startRun(t, env, tc.args...)
			err, _ := r.result(t, 15*time.Second) // far below DATABASE_WAIT
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
			if strings.Contains(r.logs.String(), "DATABASE_WAIT") {
				t.Errorf("waited for what waiting cannot fix:\n%s", r.logs)
			}
		})
	}

	t.Run("the wait runs out", func(t *testing.T) {
		t.Parallel()
		r := startRun(t, map[string]string{"DATABASE_URL": refused, "DATABASE_WAIT": "1s"})
		err, _ := r.result(t, 15*time.Second)
		if err == nil || !strings.Contains(err.Error(), "DATABASE_WAIT=1s") {
			t.Fatalf("err = %v, want one naming DATABASE_WAIT=1s", err)
		}
		if !strings.Contains(r.logs.String(), "DATABASE_WAIT: PostgreSQL is not accepting connections yet") {
			t.Errorf("no DATABASE_WAIT line while waiting:\n%s", r.logs)
		}
	})
}

// Issue 19 item 18: a new DATA_DIR starts an empty database, and the log
// says so loudly, with where; the next start on it does not.
func TestServeSaysWhenItCreatesANewEmptyDatabase(t *testing.T) {
	testdb.Only(t, "sqlite") // runs the binary on a DATA_DIR: once, in the SQLite pass
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "fresh")
	first := startServe(t, map[string]string{"DATA_DIR": dir})
	lines := first.logLines(t, "NEW, EMPTY SQLite database")
	if len(lines) != 1 || lines[0]["level"] != "WARN" || lines[0]["path"] != filepath.Join(dir, "inlet.db") {
		t.Fatalf("first start on a new DATA_DIR: %v\n%s", lines, first.logs)
	}
	if _, err := first.stop(); err != nil {
		t.Fatal(err)
	}
	again := startServe(t, map[string]string{"DATA_DIR": dir})
	if lines := again.logLines(t, "NEW, EMPTY"); len(lines) != 0 {
		t.Fatalf("second start on the same DATA_DIR says it is new: %v", lines)
	}
}
