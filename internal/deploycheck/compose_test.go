package deploycheck

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/inlet-dev/inlet/internal/config"
)

func isSetting(name string) bool {
	for _, s := range config.Settings {
		if s.Name == name {
			return true
		}
	}
	return false
}

type composeFile struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
}

type service struct {
	Image       string         `yaml:"image"`
	PullPolicy  string         `yaml:"pull_policy"`
	Build       any            `yaml:"build"`
	Restart     string         `yaml:"restart"`
	Environment any            `yaml:"environment"` // map or list of KEY=value
	EnvFile     any            `yaml:"env_file"`    // string, list of strings or of {path, required}
	DependsOn   map[string]any `yaml:"depends_on"`
	Ports       []string       `yaml:"ports"`
	Volumes     []string       `yaml:"volumes"`
	Healthcheck struct {
		Test any `yaml:"test"`
	} `yaml:"healthcheck"`
	StopGracePeriod string `yaml:"stop_grace_period"`
}

func (s service) env(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case nil:
	case map[string]any:
		for k, v := range e {
			out[k] = fmt.Sprint(v)
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(fmt.Sprint(kv), "=")
			out[k] = v
		}
	default:
		t.Fatalf("environment has an unexpected shape %T", e)
	}
	return out
}

func (s service) envFiles() []string {
	var out []string
	switch e := s.EnvFile.(type) {
	case string:
		out = append(out, e)
	case []any:
		for _, f := range e {
			if m, ok := f.(map[string]any); ok {
				out = append(out, fmt.Sprint(m["path"]))
				continue
			}
			out = append(out, fmt.Sprint(f))
		}
	}
	return out
}

// envExample reads .env.example: set variables and commented-out ones.
func envExample(t *testing.T) (values map[string]string, commented []string) {
	t.Helper()
	values = map[string]string{}
	assign := regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=(.*)$`)
	for _, line := range strings.Split(readRepoFile(t, ".env.example"), "\n") {
		line = strings.TrimSpace(line)
		m := assign.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if strings.HasPrefix(line, "#") {
			commented = append(commented, m[1])
			continue
		}
		values[m[1]] = m[2]
	}
	return values, commented
}

// interpolation is ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?err}, ${NAME?err}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}`)

// interpolate does what compose does with a value, given the .env values.
func interpolate(s string, vars map[string]string) (string, error) {
	var err error
	out := interpolation.ReplaceAllStringFunc(s, func(m string) string {
		p := interpolation.FindStringSubmatch(m)
		v, set := vars[p[1]]
		empty := !set || (strings.HasPrefix(p[2], ":") && v == "")
		switch strings.TrimPrefix(p[2], ":") {
		case "-":
			if empty {
				return p[3]
			}
		case "?":
			if empty {
				err = fmt.Errorf("%s: %s", p[1], p[3])
			}
		}
		return v
	})
	return out, err
}

func TestCompose(t *testing.T) {
	raw := readRepoFile(t, "docker-compose.yml")
	var cf composeFile
	if err := yaml.Unmarshal([]byte(raw), &cf); err != nil {
		t.Fatalf("docker-compose.yml is not YAML: %v", err)
	}
	pg, ok := cf.Services["postgres"]
	if !ok {
		t.Fatal("no postgres service")
	}
	in, ok := cf.Services["inlet"]
	if !ok {
		t.Fatal("no inlet service")
	}

	t.Run("postgres", func(t *testing.T) {
		if !regexp.MustCompile(`^postgres:1[6-9](\.\d+)?(-alpine)?$`).MatchString(pg.Image) {
			t.Errorf("postgres image %q, want a pinned major such as postgres:16-alpine", pg.Image)
		}
		named := false
		for _, v := range pg.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			if _, declared := cf.Volumes[src]; declared && strings.HasPrefix(dst, "/var/lib/postgresql/data") {
				named = true
			}
		}
		if !named {
			t.Errorf("postgres data is not on a declared named volume: %v", pg.Volumes)
		}
		if !strings.Contains(fmt.Sprint(pg.Healthcheck.Test), "pg_isready") {
			t.Errorf("postgres healthcheck %v does not use pg_isready", pg.Healthcheck.Test)
		}
		if pg.Restart != "unless-stopped" {
			t.Errorf("postgres restart %q", pg.Restart)
		}
		if len(pg.Ports) != 0 {
			t.Errorf("postgres publishes ports %v; only Inlet needs to reach it", pg.Ports)
		}
	})

	t.Run("inlet", func(t *testing.T) {
		ctx := ""
		switch b := in.Build.(type) {
		case string:
			ctx = b
		case map[string]any:
			ctx = fmt.Sprint(b["context"])
		}
		if ctx != "." {
			t.Errorf("inlet build context %q, want . (the Dockerfile here)", ctx)
		}
		dep, _ := in.DependsOn["postgres"].(map[string]any)
		if dep["condition"] != "service_healthy" {
			t.Errorf("inlet depends_on postgres %v, want condition service_healthy", in.DependsOn["postgres"])
		}
		if in.Restart != "unless-stopped" {
			t.Errorf("inlet restart %q", in.Restart)
		}
		// Issue 19 item 12: published on loopback only; a reverse proxy
		// exposes it (the comment above the ports says how).
		if fmt.Sprint(in.Ports) != "[127.0.0.1:8080:8080]" {
			t.Errorf("inlet ports %v, want 127.0.0.1:8080:8080", in.Ports)
		}
		if !strings.Contains(raw, "reverse_proxy 127.0.0.1:8080") {
			t.Error("docker-compose.yml does not show the reverse-proxy line beside the loopback-only port")
		}
		// Issue 19 item 9: an image name beside build: makes the first `up`
		// try to pull it.
		if in.Image != "" && in.PullPolicy != "build" {
			t.Errorf("inlet has image %q and build: but pull_policy %q, want build", in.Image, in.PullPolicy)
		}
		// Issue 19 item 8: data on named volumes only (an anonymous one is
		// left behind at every recreate).
		for name, svc := range map[string]service{"inlet": in, "postgres": pg} {
			for _, v := range svc.Volumes {
				src, _, ok := strings.Cut(v, ":")
				if !ok {
					t.Errorf("%s volume %q is anonymous; name it", name, v)
					continue
				}
				if _, declared := cf.Volumes[src]; !declared && !strings.HasPrefix(src, ".") && !strings.HasPrefix(src, "/") {
					t.Errorf("%s volume %q is not declared under volumes:", name, v)
				}
			}
		}
		dataNamed := false
		for _, v := range in.Volumes {
			src, dst, _ := strings.Cut(v, ":")
			if _, declared := cf.Volumes[src]; declared && strings.TrimSuffix(dst, ":rw") == "/data" {
				dataNamed = true
			}
		}
		if !dataNamed {
			t.Errorf("inlet's /data (DATA_DIR) is not on a named volume: %v", in.Volumes)
		}
		if files := in.envFiles(); len(files) != 1 || files[0] != ".env" {
			t.Errorf("inlet env_file %v, want .env", files)
		}
		env := in.env(t)
		for k := range env {
			if !isSetting(k) {
				t.Errorf("inlet environment sets %s, which is not an Inlet setting", k)
			}
		}
		for _, k := range []string{"DATABASE_URL", "BASE_URL", "ADMIN_EMAIL", "ADMIN_PASSWORD", "SESSION_KEY"} {
			if _, ok := env[k]; !ok {
				t.Errorf("inlet environment does not pass %s", k)
			}
		}
		if d, err := time.ParseDuration(in.StopGracePeriod); err != nil || d <= 15*time.Second {
			t.Errorf("stop_grace_period %q must exceed SHUTDOWN_TIMEOUT's 15s default, or Docker kills Inlet mid-drain", in.StopGracePeriod)
		}
	})

	t.Run("with .env from .env.example", func(t *testing.T) {
		vars, _ := envExample(t)
		// What the operator is told to fill in.
		filled := map[string]string{}
		for k, v := range vars {
			filled[k] = v
		}
		for k, v := range map[string]string{"POSTGRES_PASSWORD": "0f3a9c1d2e", "ADMIN_EMAIL": "ops@example.com",
			"ADMIN_PASSWORD": "a-long-password", "SESSION_KEY": strings.Repeat("s", 64), "ENCRYPTION_KEY": strings.Repeat("e", 64)} {
			if filled[k] != "" {
				t.Errorf(".env.example ships a value for %s; secrets must be left for the operator", k)
			}
			filled[k] = v
		}

		// Unfilled, compose refuses to start and says what is missing.
		if _, err := interpolate(in.env(t)["DATABASE_URL"], vars); err == nil || !strings.Contains(err.Error(), "POSTGRES_PASSWORD") {
			t.Errorf("an unfilled .env should stop compose naming POSTGRES_PASSWORD, got %v", err)
		}

		// Filled, the environment Inlet gets (env_file, then environment)
		// passes Inlet's own validation and points at the postgres service.
		env := map[string]string{}
		for k, v := range filled {
			env[k] = v
		}
		for k, v := range in.env(t) {
			got, err := interpolate(v, filled)
			if err != nil {
				t.Fatalf("compose would refuse a filled .env: %v", err)
			}
			env[k] = got
		}
		for k, v := range pg.env(t) {
			if _, err := interpolate(v, filled); err != nil {
				t.Fatalf("postgres %s: %v", k, err)
			}
		}
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("Inlet would not start with compose's environment:\n%v", err)
		}
		u, err := url.Parse(cfg.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		pgEnv := pg.env(t)
		pw, _ := u.User.Password()
		if u.Hostname() != "postgres" || u.Path != "/"+pgEnv["POSTGRES_DB"] || u.User.Username() != pgEnv["POSTGRES_USER"] || pw != filled["POSTGRES_PASSWORD"] {
			t.Errorf("DATABASE_URL %s does not match the postgres service (%v)", u.Redacted(), pgEnv)
		}
		if cfg.AdminEmail != "ops@example.com" || cfg.EncryptionKey == "" || cfg.BaseURL != "http://localhost:8080" {
			t.Errorf(".env values did not reach Inlet: %+v", cfg)
		}
	})

	t.Run("every interpolated variable is explained", func(t *testing.T) {
		vars, _ := envExample(t)
		for _, m := range interpolation.FindAllStringSubmatch(raw, -1) {
			name, op := m[1], m[2]
			_, inExample := vars[name]
			if !inExample && op != "-" && op != ":-" {
				t.Errorf("docker-compose.yml needs ${%s} but .env.example does not list it", name)
			}
		}
	})
}

// TestEnvExample: every variable in .env.example (set or commented out) is
// an Inlet setting or one docker-compose.yml uses, so none is a typo that
// would be silently ignored.
func TestEnvExample(t *testing.T) {
	vars, commented := envExample(t)
	compose := readRepoFile(t, "docker-compose.yml")
	names := commented
	for k := range vars {
		names = append(names, k)
	}
	if len(names) == 0 {
		t.Fatal(".env.example lists no variables")
	}
	for _, k := range names {
		if !isSetting(k) && !strings.Contains(compose, "${"+k) {
			t.Errorf(".env.example has %s, which is neither an Inlet setting nor used by docker-compose.yml", k)
		}
	}
	for _, must := range []string{"POSTGRES_PASSWORD", "BASE_URL", "ADMIN_EMAIL", "ADMIN_PASSWORD", "SESSION_KEY", "ENCRYPTION_KEY"} {
		if _, ok := vars[must]; !ok {
			t.Errorf(".env.example does not offer %s", must)
		}
	}
	if !strings.Contains(readRepoFile(t, ".gitignore"), ".env") {
		t.Error(".gitignore does not keep .env (with real secrets) out of git")
	}
}
