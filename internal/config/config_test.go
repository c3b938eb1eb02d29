package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
)

func load(env map[string]string) (*config.Config, error) {
	return config.Load(func(k string) string { return env[k] })
}

func mustLoad(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	c, err := load(env)
	if err != nil {
		t.Fatalf("Load(%v): %v", env, err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	c := mustLoad(t, nil)
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"DATABASE_URL", c.DatabaseURL, ""}, {"DATA_DIR", c.DataDir, "./data"}, {"LISTEN_ADDR", c.ListenAddr, ":8080"},
		{"BASE_URL", c.BaseURL, "http://localhost:8080"}, {"MAX_BODY_BYTES", c.MaxBodyBytes, int64(1 << 20)},
		{"LOG_FORMAT", c.LogFormat, "text"}, {"LOG_LEVEL", c.LogLevel, "info"}, {"ADMIN_EMAIL", c.AdminEmail, ""},
		{"ADMIN_PASSWORD", c.AdminPassword, ""}, {"SESSION_KEY", c.SessionKey, ""}, {"COOKIE_SECURE", c.CookieSecure, "auto"},
		{"ENCRYPTION_KEY", c.EncryptionKey, ""}, {"METRICS_TOKEN", c.MetricsToken, ""}, {"RETENTION_DAYS", c.RetentionDays, 0},
		{"SECRET_ROTATION_GRACE", c.SecretGrace, 24 * time.Hour}, {"INGEST_QUEUE", c.IngestQueue, 2048},
		{"INGEST_BATCH", c.IngestBatch, 1000}, {"INGEST_WRITERS", c.IngestWriters, 2},
		{"INGEST_TIMEOUT", c.IngestTimeout, 3 * time.Second}, {"SHUTDOWN_TIMEOUT", c.ShutdownGrace, 15 * time.Second},
		{"READ_TIMEOUT", c.ReadTimeout, 15 * time.Second},
	} {
		if f.got != f.want {
			t.Errorf("%s defaults to %v, want %v", f.name, f.got, f.want)
		}
	}
	if !c.UsesEmbedded() {
		t.Error("no DATABASE_URL should mean the embedded SQLite store")
	}
	if c.SecureCookies() {
		t.Error("http://localhost should not get Secure cookies")
	}
}

// The documented defaults are the real ones: setting each to its documented
// value changes nothing.
func TestDocumentedDefaultsAreTheDefaults(t *testing.T) {
	base := mustLoad(t, nil)
	for _, s := range config.Settings {
		if s.Default == "" || strings.HasPrefix(s.Default, "(") {
			continue // no default, or a described one
		}
		c, err := load(map[string]string{s.Name: s.Default})
		if err != nil {
			t.Errorf("%s=%s (its documented default) is refused: %v", s.Name, s.Default, err)
			continue
		}
		if !reflect.DeepEqual(c, base) {
			t.Errorf("%s: documented default %q is not the default Load applies", s.Name, s.Default)
		}
	}
}

func TestLoadValues(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"DATABASE_URL": "postgresql://inlet:pw@db:5432/inlet?sslmode=disable", "DATA_DIR": "/data",
		"LISTEN_ADDR": "127.0.0.1:9000", "BASE_URL": "https://inlet.example.com/", "MAX_BODY_BYTES": "2048",
		"LOG_FORMAT": "JSON", "LOG_LEVEL": "Debug", "ADMIN_EMAIL": "ops@example.com", "ADMIN_PASSWORD": "long-enough",
		"RETENTION_DAYS": "90", "SECRET_ROTATION_GRACE": "2h", "INGEST_QUEUE": "10", "INGEST_BATCH": "5",
		"INGEST_WRITERS": "4", "INGEST_TIMEOUT": "4s", "SHUTDOWN_TIMEOUT": "30s", "METRICS_TOKEN": "t",
	})
	if c.UsesEmbedded() || c.DataDir != "/data" || c.ListenAddr != "127.0.0.1:9000" || c.MaxBodyBytes != 2048 {
		t.Errorf("values not taken: %+v", c)
	}
	if c.BaseURL != "https://inlet.example.com" {
		t.Errorf("BASE_URL %q: the trailing slash should go (the webhook URL is built from it)", c.BaseURL)
	}
	if c.LogFormat != "json" || c.LogLevel != "debug" {
		t.Errorf("LOG_FORMAT/LOG_LEVEL should be case-insensitive: %q %q", c.LogFormat, c.LogLevel)
	}
	if c.RetentionDays != 90 || c.SecretGrace != 2*time.Hour || c.IngestQueue != 10 || c.IngestBatch != 5 ||
		c.IngestWriters != 4 || c.IngestTimeout != 4*time.Second || c.ShutdownGrace != 30*time.Second || c.MetricsToken != "t" {
		t.Errorf("numbers and durations not taken: %+v", c)
	}
}

func TestEachInvalidValueNamesItsVariable(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		env         map[string]string // extra variables the case needs
		says        string            // part of the fix the message must give
	}{
		{"DATABASE_URL", "mysql://db/inlet", nil, "postgres://"},
		{"DATABASE_URL", "not a url at all", nil, "postgres://"},
		{"BASE_URL", "inlet.example.com", nil, "absolute http(s) URL"},
		{"BASE_URL", "ftp://inlet.example.com", nil, "absolute http(s) URL"},
		{"MAX_BODY_BYTES", "big", nil, "whole number"},
		{"MAX_BODY_BYTES", "100", nil, "≥ 1024"},
		{"LOG_FORMAT", "xml", nil, "text or json"},
		{"LOG_LEVEL", "verbose", nil, "debug, info, warn or error"},
		{"COOKIE_SECURE", "yes", nil, "auto, true or false"},
		{"METRICS_ALLOWED_NETWORKS", "10.0.0.0/33", nil, "CIDR"},
		{"METRICS_ALLOWED_NETWORKS", "localhost", nil, "or none"},
		{"DATABASE_WAIT", "soon", nil, "0 = do not wait"},
		{"DATABASE_WAIT", "-5s", nil, "such as 30s"},
		{"ADMIN_EMAIL", "ops@example.com", nil, "set both"},
		{"ADMIN_PASSWORD", "long-enough-password", nil, "set both"},
		{"ADMIN_PASSWORD", "short", map[string]string{"ADMIN_EMAIL": "ops@example.com"}, "at least 8"},
		{"SESSION_KEY", "too-short", nil, "openssl rand -hex 32"},
		{"ENCRYPTION_KEY", "too-short", nil, "openssl rand -hex 32"},
		{"RETENTION_DAYS", "-1", nil, "whole number ≥ 0"},
		{"RETENTION_DAYS", "30d", nil, "whole number"},
		{"SECRET_ROTATION_GRACE", "1 day", nil, "duration such as 30s or 24h"},
		{"SECRET_ROTATION_GRACE", "-5m", nil, "positive duration"},
		{"INGEST_QUEUE", "0", nil, "≥ 1"},
		{"INGEST_BATCH", "many", nil, "whole number"},
		{"INGEST_WRITERS", "0", nil, "≥ 1"},
		{"INGEST_TIMEOUT", "5s", nil, "under 5s"},
		{"INGEST_TIMEOUT", "soon", nil, "positive duration"},
		{"SHUTDOWN_TIMEOUT", "0s", nil, "positive duration"},
		{"READ_TIMEOUT", "forever", nil, "positive duration"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			env := map[string]string{tc.name: tc.value}
			for k, v := range tc.env {
				env[k] = v
			}
			c, err := load(env)
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			msg := err.Error()
			if head, _, _ := strings.Cut(msg, ":"); !strings.Contains(head, tc.name) {
				t.Errorf("message %q does not start by naming the variable", msg)
			}
			if !strings.Contains(msg, tc.says) {
				t.Errorf("message %q does not say %q", msg, tc.says)
			}
			if strings.Contains(tc.name, "KEY") || strings.Contains(tc.name, "PASSWORD") {
				if strings.Contains(msg, tc.value) {
					t.Errorf("message %q repeats the secret value", msg)
				}
			}
		})
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	_, err := load(map[string]string{"LOG_FORMAT": "xml", "INGEST_QUEUE": "zero", "BASE_URL": "nowhere"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, name := range []string{"LOG_FORMAT", "INGEST_QUEUE", "BASE_URL"} {
		if !strings.Contains(err.Error(), name+":") {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

func TestSecretsFromFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	long := strings.Repeat("k", 40)
	env := map[string]string{
		"DATABASE_URL_FILE":   write("db", "postgres://inlet:pw@db/inlet\n"),
		"ADMIN_EMAIL":         "ops@example.com",
		"ADMIN_PASSWORD_FILE": write("pw", "file-password\r\n"),
		"SESSION_KEY_FILE":    write("session", long+"\n"),
		"ENCRYPTION_KEY_FILE": write("enc", long+"e"),
		"METRICS_TOKEN_FILE":  write("metrics", "scrape-token\n"),
	}
	c := mustLoad(t, env)
	got := []string{c.DatabaseURL, c.AdminPassword, c.SessionKey, c.EncryptionKey, c.MetricsToken}
	want := []string{"postgres://inlet:pw@db/inlet", "file-password", long, long + "e", "scrape-token"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("_FILE values (trailing newline dropped):\n got %q\nwant %q", got, want)
	}

	// The variable itself wins over its _FILE.
	env["METRICS_TOKEN"] = "from-env"
	if c := mustLoad(t, env); c.MetricsToken != "from-env" {
		t.Errorf("METRICS_TOKEN and METRICS_TOKEN_FILE both set: got %q, want the variable's", c.MetricsToken)
	}

	// An unreadable file names the _FILE variable and the path.
	for _, name := range []string{"DATABASE_URL", "ADMIN_PASSWORD", "SESSION_KEY", "ENCRYPTION_KEY", "METRICS_TOKEN"} {
		missing := filepath.Join(dir, "missing-"+name)
		_, err := load(map[string]string{name + "_FILE": missing})
		if err == nil || !strings.Contains(err.Error(), name+"_FILE: cannot read") || !strings.Contains(err.Error(), missing) {
			t.Errorf("%s_FILE pointing nowhere: %v", name, err)
		}
	}
}

func TestSecureCookiesFollowBaseURL(t *testing.T) {
	for _, tc := range []struct {
		baseURL, cookieSecure string
		want                  bool
	}{
		{"https://inlet.example.com", "", true},
		{"https://inlet.example.com", "auto", true},
		{"http://inlet.example.com", "", false},
		{"http://localhost:8080", "auto", false},
		{"http://10.0.0.5:8080", "true", true},        // TLS ends at a proxy that BASE_URL does not show
		{"https://inlet.example.com", "false", false}, // an operator's explicit choice wins
		{"https://inlet.example.com", "TRUE", true},
	} {
		c := mustLoad(t, map[string]string{"BASE_URL": tc.baseURL, "COOKIE_SECURE": tc.cookieSecure})
		if got := c.SecureCookies(); got != tc.want {
			t.Errorf("BASE_URL=%s COOKIE_SECURE=%q: SecureCookies() = %v, want %v", tc.baseURL, tc.cookieSecure, got, tc.want)
		}
	}
}

// Every variable Load reads is documented in Settings (so --help and
// docs/configuration.md list it), and every documented one is read.
func TestSettingsListExactlyWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	_, _ = config.Load(func(k string) string { read[k] = true; return "" })
	documented := map[string]bool{}
	for _, s := range config.Settings {
		if documented[s.Name] {
			t.Errorf("%s is listed twice in config.Settings", s.Name)
		}
		documented[s.Name] = true
		if !read[s.Name] {
			t.Errorf("%s is documented in config.Settings but Load never reads it", s.Name)
		}
		if s.Help == "" {
			t.Errorf("%s has no help text", s.Name)
		}
	}
	for name := range read {
		base, isFile := strings.CutSuffix(name, "_FILE")
		if isFile {
			if !documented[base] {
				t.Errorf("Load reads %s but %s is not documented", name, base)
			}
			continue
		}
		if !documented[name] {
			t.Errorf("Load reads %s but config.Settings does not list it", name)
		}
	}
}

// Issue 19 items 11 and 21: the new settings' values.
func TestMetricsNetworksAndDatabaseWait(t *testing.T) {
	def := mustLoad(t, nil)
	if fmt.Sprint(def.MetricsNetworks) != "[127.0.0.0/8 ::1/128]" || def.DatabaseWait != 30*time.Second {
		t.Fatalf("defaults: networks %v, wait %v", def.MetricsNetworks, def.DatabaseWait)
	}
	c := mustLoad(t, map[string]string{"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, 192.168.1.7", "DATABASE_WAIT": "0"})
	if fmt.Sprint(c.MetricsNetworks) != "[10.0.0.0/8 192.168.1.7/32]" || c.DatabaseWait != 0 {
		t.Fatalf("set: networks %v, wait %v", c.MetricsNetworks, c.DatabaseWait)
	}
	if c := mustLoad(t, map[string]string{"METRICS_ALLOWED_NETWORKS": "none", "DATABASE_WAIT": "2m"}); len(c.MetricsNetworks) != 0 || c.DatabaseWait != 2*time.Minute {
		t.Fatalf("none / 2m: networks %v, wait %v", c.MetricsNetworks, c.DatabaseWait)
	}
}
