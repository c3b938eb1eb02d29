package deploycheck

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository, where the deployment files live.
const root = "../.."

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, …
	Args string
}

type stage struct {
	From, Name string
	Steps      []instruction
}

// parseDockerfile splits a Dockerfile into stages the way the builder reads
// it: comments and blank lines dropped, backslash continuations joined.
func parseDockerfile(src string) []stage {
	var stages []stage
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			f := strings.Fields(in.Args)
			st := stage{From: f[0]}
			for i, w := range f {
				if strings.HasPrefix(w, "--") {
					continue
				}
				if strings.EqualFold(w, "AS") && i+1 < len(f) {
					st.Name = f[i+1]
				}
			}
			// --platform=… may come before the image.
			for _, w := range f {
				if !strings.HasPrefix(w, "--") {
					st.From = w
					break
				}
			}
			stages = append(stages, st)
			return
		}
		if len(stages) > 0 {
			stages[len(stages)-1].Steps = append(stages[len(stages)-1].Steps, in)
		}
	}
	for _, raw := range strings.Split(src, "\n") {
		line := strings.TrimSpace(raw)
		if strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	return stages
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.Steps {
		if in.Cmd == cmd {
			out = append(out, in.Args)
		}
	}
	return out
}

func (s stage) last(cmd string) string {
	all := s.all(cmd)
	if len(all) == 0 {
		return ""
	}
	return all[len(all)-1]
}

// envOf parses ENV instructions in the KEY=value form.
func envOf(s stage) map[string]string {
	env := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = strings.Trim(v, `"`)
			}
		}
	}
	return env
}

// execForm parses a JSON-array instruction argument (["/inlet", "x"]).
func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		t.Fatalf("%s is not in exec (JSON array) form: %q", what, args)
	}
	return out
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(readRepoFile(t, "Dockerfile"))
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage build, found %d stage(s)", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	t.Run("builder", func(t *testing.T) {
		if !regexp.MustCompile(`^golang:1\.26([.-]|$)`).MatchString(build.From) {
			t.Errorf("builder image %q, want golang:1.26", build.From)
		}
		if build.Name == "" {
			t.Error("builder stage has no name for COPY --from")
		}
		var goBuild string
		for _, r := range build.all("RUN") {
			if strings.Contains(r, "go build") {
				goBuild = r
			}
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w`, "-X main.version=${VERSION}", "./cmd/inlet"} {
			if !strings.Contains(goBuild, want) {
				t.Errorf("go build step lacks %s: %q", want, goBuild)
			}
		}
		if !strings.HasPrefix(build.last("ARG"), "VERSION") {
			t.Error("no ARG VERSION to stamp the build with")
		}
		// The stamped variable exists where -X points.
		if !strings.Contains(readRepoFile(t, "cmd/inlet/main.go"), "var version = ") {
			t.Error("cmd/inlet/main.go has no `var version` for -X main.version")
		}
		for _, c := range build.all("COPY") {
			for _, src := range strings.Fields(c)[:len(strings.Fields(c))-1] {
				if strings.HasPrefix(src, "--") || src == "." {
					continue
				}
				if _, err := os.Stat(filepath.Join(root, src)); err != nil {
					t.Errorf("COPY source %s does not exist in the repository", src)
				}
			}
		}
	})

	t.Run("final image", func(t *testing.T) {
		if !strings.HasPrefix(final.From, "gcr.io/distroless/static") && !strings.HasPrefix(final.From, "alpine:") {
			t.Errorf("final image %q, want distroless/static or alpine", final.From)
		}
		user := final.last("USER")
		name, _, _ := strings.Cut(user, ":")
		if name == "" || name == "root" || name == "0" {
			t.Errorf("USER %q: the container must not run as root", user)
		}
		var dataOwner string
		for _, c := range final.all("COPY") {
			if !strings.Contains(c, "--from="+build.Name) {
				t.Errorf("final stage copies %q from outside the builder", c)
			}
			if f := strings.Fields(c); f[len(f)-1] == "/data" {
				for _, w := range f {
					if o, ok := strings.CutPrefix(w, "--chown="); ok {
						dataOwner = o
					}
				}
			}
		}
		if dataOwner != user {
			t.Errorf("/data is owned by %q, want the USER %q so the embedded store can write", dataOwner, user)
		}
		// Issue 19 item 8: a VOLUME leaves an anonymous volume behind at
		// every recreate (a SQLite user silently starts empty); compose
		// declares named volumes instead.
		for _, st := range stages {
			if v := st.all("VOLUME"); len(v) > 0 {
				t.Errorf("VOLUME %v in stage %s: declare data volumes by name in docker-compose.yml instead", v, st.From)
			}
		}
		// Issue 19 item 10: the binary is on PATH as `inlet` (distroless's
		// PATH has /usr/local/bin), so `docker compose exec inlet inlet …`
		// and the log's hints work.
		onPath := false
		for _, c := range final.all("COPY") {
			if f := strings.Fields(c); f[len(f)-1] == "/usr/local/bin/inlet" {
				onPath = true
			}
		}
		if !onPath {
			t.Error("the binary is not copied to /usr/local/bin/inlet (on PATH as inlet)")
		}

		env := envOf(final)
		for k, want := range map[string]string{"LISTEN_ADDR": ":8080", "DATA_DIR": "/data", "LOG_FORMAT": "json"} {
			if env[k] != want {
				t.Errorf("ENV %s=%q, want %q", k, env[k], want)
			}
		}
		for k := range env {
			if !isSetting(k) {
				t.Errorf("ENV %s is not an Inlet setting", k)
			}
		}
		if e := final.last("EXPOSE"); e != "8080" || !strings.HasSuffix(env["LISTEN_ADDR"], ":"+e) {
			t.Errorf("EXPOSE %q does not match LISTEN_ADDR %q", e, env["LISTEN_ADDR"])
		}

		hc := final.last("HEALTHCHECK")
		_, cmd, ok := strings.Cut(hc, "CMD ")
		if !ok {
			t.Fatalf("no HEALTHCHECK CMD: %q", hc)
		}
		if got := execForm(t, "HEALTHCHECK CMD", cmd); strings.Join(got, " ") != "/usr/local/bin/inlet healthcheck" {
			t.Errorf("HEALTHCHECK runs %q, want /usr/local/bin/inlet healthcheck (distroless has no curl)", got)
		}
		if !strings.Contains(readRepoFile(t, "cmd/inlet/main.go"), `case "healthcheck":`) {
			t.Error("the binary has no healthcheck subcommand")
		}
		if got := execForm(t, "ENTRYPOINT", final.last("ENTRYPOINT")); len(got) != 1 || got[0] != "/usr/local/bin/inlet" {
			t.Errorf("ENTRYPOINT %q, want [\"/usr/local/bin/inlet\"] (exec form, so SIGTERM reaches Inlet)", got)
		}
	})
}

// Issue 19 item 7: a "# syntax=" parser directive makes BuildKit pull a
// frontend image from a registry, so the build fails offline or behind a
// mirror even with every base image present. Directives are only read
// before the first instruction, comment or blank line, so any "# syntax="
// (or "#syntax=") line in that header counts.
func TestDockerfileNeedsNoFrontendImage(t *testing.T) {
	for _, line := range strings.Split(readRepoFile(t, "Dockerfile"), "\n") {
		l := strings.ToLower(strings.ReplaceAll(line, " ", ""))
		if !strings.HasPrefix(l, "#") {
			break
		}
		if strings.HasPrefix(l, "#syntax=") {
			t.Fatalf("Dockerfile has the parser directive %q: BuildKit would pull a frontend image", line)
		}
	}
	// The README tells readers what Docker the file needs (issue 19 item 12).
	readme := readRepoFile(t, "README.md")
	for _, want := range []string{"Compose v2", "buildx", "0.17",
		// Each command in its container form (issue 19 item 10).
		"docker compose exec -T inlet inlet secret set", "docker compose exec inlet inlet admin"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md's compose section lacks %q", want)
		}
	}
}

func TestDockerignore(t *testing.T) {
	var patterns, negated []string
	for _, line := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "!"):
			negated = append(negated, strings.TrimPrefix(line, "!"))
		default:
			patterns = append(patterns, strings.TrimSuffix(strings.TrimPrefix(line, "/"), "/"))
		}
	}
	ignored := func(path string) bool {
		for _, n := range negated {
			if n == path {
				return false
			}
		}
		for _, p := range patterns {
			for _, cand := range []string{path, filepath.Base(path)} {
				if ok, _ := filepath.Match(strings.TrimPrefix(p, "**/"), cand); ok {
					return true
				}
			}
			if strings.HasPrefix(path, p+"/") {
				return true
			}
		}
		return false
	}
	for _, keep := range []string{"go.mod", "go.sum", "cmd/inlet/main.go", "internal/store/store.go", "web/routes.go",
		"migrations/migrations.go", "templates/templates.go", "static/static.go",
		"docs/docs.go", "docs/api.md"} { // docs/*.md are embedded (/docs)
		if ignored(keep) {
			t.Errorf(".dockerignore leaves out %s, which the build needs", keep)
		}
	}
	for _, drop := range []string{".git", ".env", ".env.production", "data", "data/inlet.db", "internal/store/x_test.go", "docs/screenshots/settings.png"} {
		if !ignored(drop) {
			t.Errorf(".dockerignore sends %s to the build", drop)
		}
	}
}
