package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/testdb"
)

// runWith runs `inlet args...` with env as main would and returns stdout and stderr.
func runWith(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// Every command and subcommand answers -h/--help with its usage and exit 0,
// and never runs: serve would listen (and block), the others would open the
// database, which here does not exist.
func TestHelpOnEveryCommand(t *testing.T) {
	testdb.Only(t, "sqlite") // runs the binary on a DATA_DIR: once, in the SQLite pass
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "never-created")
	env := map[string]string{"DATA_DIR": dataDir, "LISTEN_ADDR": "127.0.0.1:" + freePort(t)}
	var paths [][]string
	for _, d := range commandDocs {
		paths = append(paths, strings.Fields(d.Path))
	}
	paths = append(paths, []string{"admin"}, []string{"secret"}, []string{"writekey"}, nil)
	for _, path := range paths {
		for _, flag := range []string{"-h", "--help"} {
			args := append(append([]string{}, path...), flag)
			if len(path) == 2 && path[0] == "admin" {
				args = append(args, "--email", "x@example.com") // flags around --help do not matter
			}
			start := time.Now()
			out, errOut, err := runWith(t, env, "", args...)
			name := strings.Join(args, " ")
			if err != nil {
				t.Errorf("inlet %s: %v (stderr %q)", name, err, errOut)
				continue
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("inlet %s took %s: it ran something", name, time.Since(start))
			}
			if !strings.Contains(out, "Usage") || strings.Contains(out+errOut, "flag: help requested") {
				t.Errorf("inlet %s printed %q / %q", name, out, errOut)
			}
			if len(path) > 0 && path[0] != "help" && !strings.Contains(out, "inlet "+strings.Join(path, " ")) {
				t.Errorf("inlet %s does not show its own usage line:\n%s", name, out)
			}
		}
	}
	if _, err := os.Stat(dataDir); err == nil {
		t.Error("asking for help created the data folder")
	}
	out, _, err := runWith(t, env, "", "admin", "create", "--help")
	if err != nil || !strings.Contains(out, "--email") || strings.Contains(out, "reset-password") {
		t.Errorf("admin create --help: %v\n%s", err, out)
	}
	out, _, err = runWith(t, env, "", "admin", "--help")
	if err != nil || !strings.Contains(out, "admin create") || !strings.Contains(out, "admin reset-password") {
		t.Errorf("admin --help: %v\n%s", err, out)
	}
	if out, _, err := runWith(t, env, "", "help", "writekey"); err != nil || !strings.Contains(out, "writekey revoke") {
		t.Errorf("help writekey: %v\n%s", err, out)
	}
}

// A command run where no embedded database exists says where it looked and
// creates nothing; with --init it creates one; every command says which
// store it uses.
func TestCommandsSayWhichStoreAndNeverCreateOneSilently(t *testing.T) {
	testdb.Only(t, "sqlite") // runs the binary on a DATA_DIR: once, in the SQLite pass
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"DATA_DIR": dataDir, "LOG_LEVEL": "error"}
	dbFile := filepath.Join(dataDir, "inlet.db")
	for _, args := range [][]string{{"secret", "set"}, {"writekey", "create"}, {"writekey", "list"}, {"migrate"}, {"migrate", "status"},
		{"admin", "create", "--email", "a@example.com"}} {
		_, errOut, err := runWith(t, env, "a-long-enough-secret-value\n", args...)
		if err == nil {
			t.Fatalf("inlet %s succeeded with no database", strings.Join(args, " "))
		}
		for _, want := range []string{"no Inlet database at " + dbFile, "DATA_DIR", "--init"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("inlet %s: %q does not say %q", strings.Join(args, " "), err, want)
			}
		}
		// Issue 19 item 20: not "using SQLite file X" and then "no Inlet database at X".
		if strings.Contains(errOut, "using") {
			t.Errorf("inlet %s says it uses a database that is not there: %q", strings.Join(args, " "), errOut)
		}
		if _, err := os.Stat(dbFile); err == nil {
			t.Fatalf("inlet %s created %s", strings.Join(args, " "), dbFile)
		}
	}
	out, errOut, err := runWith(t, env, "a-long-enough-secret-value\n", "secret", "set", "--init")
	if err != nil || !strings.Contains(out, "shared secret saved") || !strings.Contains(errOut, "creating a new SQLite database at "+dbFile) {
		t.Fatalf("secret set --init: %v\n%s\n%s", err, out, errOut)
	}
	if _, err := os.Stat(dbFile); err != nil {
		t.Fatalf("--init created no database: %v", err)
	}
	// Now it exists, commands use it without --init.
	if out, errOut, err := runWith(t, env, "", "writekey", "list"); err != nil || !strings.Contains(out, "NAME") || !strings.Contains(errOut, "using SQLite file "+dbFile) {
		t.Fatalf("writekey list on the created database: %v %q %q", err, out, errOut)
	}

	// PostgreSQL: host and database, never the password.
	u, err := url.Parse(testdb.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), "pw-never-shown")
	_, errOut, err = runWith(t, map[string]string{"DATABASE_URL": u.String(), "LOG_LEVEL": "error"}, "", "writekey", "list")
	if err != nil {
		t.Fatal(err)
	}
	want := `using PostgreSQL database "` + strings.TrimPrefix(u.Path, "/") + `" on ` + u.Host
	if !strings.Contains(errOut, want) || strings.Contains(errOut, "pw-never-shown") {
		t.Errorf("PostgreSQL command said %q, want %q and no password", errOut, want)
	}
}

// A DATA_DIR the server cannot write is reported with its path and the
// permission problem, not SQLite's "out of memory (14)". Runs the real binary
// as an unprivileged user, since root writes anywhere.
func TestReadOnlyDataDirSaysPathAndPermission(t *testing.T) {
	testdb.Only(t, "sqlite") // runs the binary on a DATA_DIR: once, in the SQLite pass
	t.Parallel()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // the unprivileged user must reach the binary
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "inlet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o555); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"serve"}, {"migrate", "--init"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"DATA_DIR=" + data, "LISTEN_ADDR=127.0.0.1:" + freePort(t), "PATH=" + os.Getenv("PATH")}
		if os.Getuid() == 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		}
		done := make(chan struct{})
		var out []byte
		var err error
		go func() { out, err = cmd.CombinedOutput(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("inlet %s started on a read-only DATA_DIR", strings.Join(args, " "))
		}
		if err == nil {
			t.Fatalf("inlet %s succeeded on a read-only DATA_DIR:\n%s", strings.Join(args, " "), out)
		}
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("inlet %s did not run: %v", strings.Join(args, " "), err)
		}
		msg := string(out)
		for _, want := range []string{"DATA_DIR " + data + " is not writable", "permission denied", "chown"} {
			if !strings.Contains(msg, want) {
				t.Errorf("inlet %s: %q does not say %q", strings.Join(args, " "), msg, want)
			}
		}
		if strings.Contains(msg, "out of memory") {
			t.Errorf("inlet %s still says out of memory: %s", strings.Join(args, " "), msg)
		}
	}
}

// The URL Inlet shows follows LISTEN_ADDR, and a URL Segment cannot reach is
// called out at start with the README section on exposing Inlet.
func TestStartLogSaysWhenSegmentCannotReachBaseURL(t *testing.T) {
	testdb.Only(t, "sqlite") // runs the binary on a DATA_DIR: once, in the SQLite pass
	t.Parallel()
	s := startServe(t, map[string]string{"DATA_DIR": t.TempDir()})
	listening := s.logLines(t, "inlet listening")
	if len(listening) != 1 || listening[0]["url"] != s.url || listening[0]["webhook"] != s.url+"/api/public/webhooks/segment" {
		t.Fatalf("start line does not show the derived URL %s:\n%s", s.url, s.logs)
	}
	w := s.logLines(t, "Segment cannot reach BASE_URL "+s.url)
	if len(w) != 1 || w[0]["level"] != "WARN" || w[0]["help"] != "docs/expose.md, served at "+s.url+"/docs/expose" {
		t.Fatalf("no warning that Segment cannot reach %s:\n%s", s.url, s.logs)
	}
	public := startServe(t, map[string]string{"DATA_DIR": t.TempDir(), "BASE_URL": "https://inlet.example.com"})
	if len(public.logLines(t, "Segment cannot reach")) != 0 {
		t.Errorf("warned about a public BASE_URL:\n%s", public.logs)
	}
}

func TestAdminVariablesIgnoredOnceAnAdminExistsSaySo(t *testing.T) {
	t.Parallel()
	env := map[string]string{"DATABASE_URL": testdb.PostgresURL(t), "ADMIN_EMAIL": "first@example.com", "ADMIN_PASSWORD": "first-password"}
	first := startServe(t, env)
	if len(first.logLines(t, "created the first dashboard admin")) != 1 {
		t.Fatalf("first start created no admin:\n%s", first.logs)
	}
	first.stop()
	env["ADMIN_PASSWORD"] = "a-changed-password"
	again := startServe(t, env)
	w := again.logLines(t, "an admin already exists")
	if len(w) != 1 || w[0]["level"] != "WARN" || !strings.Contains(w[0]["msg"].(string), "inlet admin reset-password --email first@example.com") {
		t.Fatalf("second start does not say the variables are ignored and what to do:\n%s", again.logs)
	}
}

// Issue 19 item 20: help fits an 80-column terminal, and the commands with
// flags describe each of them.
func TestHelpFits80ColumnsAndDescribesFlags(t *testing.T) {
	testdb.Only(t, "sqlite") // runs the binary on a DATA_DIR: once, in the SQLite pass
	t.Parallel()
	env := map[string]string{"DATA_DIR": filepath.Join(t.TempDir(), "never-created")}
	check := func(args []string, flags ...string) {
		t.Helper()
		out, _, err := runWith(t, env, "", args...)
		if err != nil {
			t.Fatalf("inlet %s: %v", strings.Join(args, " "), err)
		}
		for i, line := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(line); n > 80 {
				t.Errorf("inlet %s line %d is %d columns: %q", strings.Join(args, " "), i+1, n, line)
			}
		}
		for _, f := range flags {
			if !regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(f) + `\s+\S`).MatchString(out) {
				t.Errorf("inlet %s does not describe %s:\n%s", strings.Join(args, " "), f, out)
			}
		}
	}
	check([]string{"--help"})
	for _, d := range commandDocs {
		check(append(strings.Fields(d.Path), "--help"))
	}
	check([]string{"destination", "create", "--help"}, "--url URL", "--types T,…", "--name N", "--workspace ID")
	check([]string{"export", "--help"}, "--type T", "--event E", "--user U", "--from T", "--to T", "--gzip", "--workspace ID")
}
