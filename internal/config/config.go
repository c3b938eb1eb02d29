// Package config reads every Inlet setting from the environment, applies
// defaults and validates them once at start, naming the variable at fault.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting. It is built once by Load and passed down;
// nothing reads the environment anywhere else.
type Config struct {
	DatabaseURL    string        // postgres://… ; empty → embedded SQLite under DataDir
	DataDir        string        // where the embedded default keeps its file
	ListenAddr     string        // LISTEN_ADDR
	BaseURL        string        // BASE_URL, the public URL shown to admins
	MaxBodyBytes   int64         // MAX_BODY_BYTES for the webhook
	LogFormat      string        // text or json
	LogLevel       string        // debug, info, warn, error
	AdminEmail     string        // ADMIN_EMAIL
	AdminPassword  string        // ADMIN_PASSWORD (or _FILE)
	SessionKey     string        // SESSION_KEY (or _FILE)
	CookieSecure   string        // COOKIE_SECURE: auto, true, false
	EncryptionKey  string        // ENCRYPTION_KEY (or _FILE)
	MetricsToken   string        // METRICS_TOKEN (or _FILE)
	RetentionDays  int           // RETENTION_DAYS, 0 = keep forever
	SecretGrace    time.Duration // SECRET_ROTATION_GRACE
	IngestQueue    int           // INGEST_QUEUE: requests that may wait for a commit
	IngestBatch    int           // INGEST_BATCH: most events per group commit
	IngestWriters  int           // INGEST_WRITERS: concurrent group committers
	IngestTimeout  time.Duration // INGEST_TIMEOUT: longest a webhook waits for its commit
	IngestInflight int64         // INGEST_INFLIGHT_BYTES: request bytes admitted at once
	ShutdownGrace  time.Duration // SHUTDOWN_TIMEOUT
	ReadTimeout    time.Duration // READ_TIMEOUT: longest a client may take to send one request
	Profiles       bool          // PROFILES: on or off
	ProfileMaxAnon int           // PROFILE_MAX_ANONYMOUS_IDS
}

// Setting documents one variable for --help and the README.
type Setting struct {
	Name, Default, Help string
}

// Settings lists every variable Inlet reads, in the order --help shows them.
var Settings = []Setting{
	{"DATABASE_URL", "(unset: embedded SQLite in DATA_DIR)", "PostgreSQL URL, e.g. postgres://inlet:pw@db:5432/inlet?sslmode=disable. PostgreSQL is the store for production."},
	{"DATA_DIR", "./data", "Folder for the embedded SQLite database when DATABASE_URL is unset."},
	{"LISTEN_ADDR", ":8080", "Address the HTTP server listens on."},
	{"BASE_URL", "(http://localhost:<LISTEN_ADDR port>)", "Public URL of this Inlet; builds the webhook URL shown to admins and decides Secure cookies. Segment must reach it: see README, \"Expose Inlet to Segment\"."},
	{"MAX_BODY_BYTES", "1048576", "Largest webhook body accepted; larger gets 413."},
	{"LOG_FORMAT", "text", "text or json."},
	{"LOG_LEVEL", "info", "debug, info, warn or error."},
	{"ADMIN_EMAIL", "", "With ADMIN_PASSWORD, creates the first admin when none exists."},
	{"ADMIN_PASSWORD", "", "Password of that first admin (ADMIN_PASSWORD_FILE also read)."},
	{"SESSION_KEY", "(generated, kept in the database)", "Key signing session cookies, at least 32 characters (SESSION_KEY_FILE also read)."},
	{"COOKIE_SECURE", "auto", "auto (Secure when BASE_URL is https), true or false."},
	{"ENCRYPTION_KEY", "", "Encrypts shared secrets at rest with AES-GCM (ENCRYPTION_KEY_FILE also read)."},
	{"METRICS_TOKEN", "", "When set, GET /metrics needs Authorization: Bearer <token> (METRICS_TOKEN_FILE also read)."},
	{"RETENTION_DAYS", "0", "Delete events older than this many days in the background; 0 keeps them forever."},
	{"SECRET_ROTATION_GRACE", "24h", "How long a replaced shared secret keeps verifying."},
	{"INGEST_QUEUE", "2048", "Webhook requests that may wait for a commit; beyond that Inlet answers 503."},
	{"INGEST_BATCH", "1000", "Most events written in one group commit."},
	{"INGEST_WRITERS", "2", "Group commits running at once."},
	{"INGEST_INFLIGHT_BYTES", "8388608", "Webhook body bytes being read, parsed or committed at once; beyond that Inlet answers 503 at once instead of slowing every request down."},
	{"INGEST_TIMEOUT", "3s", "Longest a webhook waits for its commit before answering 503 (Segment waits 5s)."},
	{"SHUTDOWN_TIMEOUT", "15s", "Longest a graceful shutdown may take."},
	{"READ_TIMEOUT", "15s", "Longest a client may take to send one whole request (headers: at most 5s); slower senders are cut off."},
	{"PROFILES", "on", "on: every instance keeps user profiles from the stored events (in the background, never on the webhook's path); off: no profiles are kept (the profile pages and /api/v1/users answer from what was kept before)."},
	{"PROFILE_MAX_ANONYMOUS_IDS", "100", "Most anonymous ids one profile holds; further ones (the latest linked) stay profiles of their own, so one shared or junk id cannot swallow thousands of visitors."},
}

// Load reads the environment through getenv (os.Getenv in main, a map in
// tests) and validates the result.
func Load(getenv func(string) string) (*Config, error) {
	var errs []error
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	// Docker secrets arrive as files; the variable itself wins when both are set.
	secret := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		path := getenv(name + "_FILE")
		if path == "" {
			return ""
		}
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s_FILE: cannot read %q: %w", name, path, err))
			return ""
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	integer := func(name string, def, min int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < min {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number ≥ %d", name, v, min))
			return def
		}
		return n
	}
	duration := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration such as 30s or 24h", name, v))
			return def
		}
		return d
	}

	c := &Config{
		DatabaseURL:    secret("DATABASE_URL"),
		DataDir:        str("DATA_DIR", "./data"),
		ListenAddr:     str("LISTEN_ADDR", ":8080"),
		BaseURL:        strings.TrimRight(str("BASE_URL", defaultBaseURL(str("LISTEN_ADDR", ":8080"))), "/"),
		MaxBodyBytes:   int64(integer("MAX_BODY_BYTES", 1<<20, 1024)),
		LogFormat:      strings.ToLower(str("LOG_FORMAT", "text")),
		LogLevel:       strings.ToLower(str("LOG_LEVEL", "info")),
		AdminEmail:     str("ADMIN_EMAIL", ""),
		AdminPassword:  secret("ADMIN_PASSWORD"),
		SessionKey:     secret("SESSION_KEY"),
		CookieSecure:   strings.ToLower(str("COOKIE_SECURE", "auto")),
		EncryptionKey:  secret("ENCRYPTION_KEY"),
		MetricsToken:   secret("METRICS_TOKEN"),
		RetentionDays:  integer("RETENTION_DAYS", 0, 0),
		SecretGrace:    duration("SECRET_ROTATION_GRACE", 24*time.Hour),
		IngestQueue:    integer("INGEST_QUEUE", 2048, 1),
		IngestBatch:    integer("INGEST_BATCH", 1000, 1),
		IngestWriters:  integer("INGEST_WRITERS", 2, 1),
		IngestTimeout:  duration("INGEST_TIMEOUT", 3*time.Second),
		IngestInflight: int64(integer("INGEST_INFLIGHT_BYTES", 8<<20, 64<<10)),
		ShutdownGrace:  duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		ReadTimeout:    duration("READ_TIMEOUT", 15*time.Second),
		ProfileMaxAnon: integer("PROFILE_MAX_ANONYMOUS_IDS", 100, 1),
	}
	switch v := strings.ToLower(str("PROFILES", "on")); v {
	case "on", "true", "1":
		c.Profiles = true
	case "off", "false", "0":
	default:
		errs = append(errs, fmt.Errorf("PROFILES: %q must be on or off", v))
	}
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func (c *Config) validate() []error {
	var errs []error
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("DATABASE_URL: must be a postgres:// URL (unset it to use the embedded SQLite default)"))
		}
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("BASE_URL: %q must be an absolute http(s) URL such as https://inlet.example.com", c.BaseURL))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT: %q must be text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("LOG_LEVEL: %q must be debug, info, warn or error", c.LogLevel))
	}
	switch c.CookieSecure {
	case "auto", "true", "false":
	default:
		errs = append(errs, fmt.Errorf("COOKIE_SECURE: %q must be auto, true or false", c.CookieSecure))
	}
	if (c.AdminEmail == "") != (c.AdminPassword == "") {
		errs = append(errs, errors.New("ADMIN_EMAIL and ADMIN_PASSWORD: set both to create the first admin, or neither"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < 8 {
		errs = append(errs, errors.New("ADMIN_PASSWORD: must be at least 8 characters"))
	}
	if c.SessionKey != "" && len(c.SessionKey) < 32 {
		errs = append(errs, errors.New("SESSION_KEY: must be at least 32 characters (try: openssl rand -hex 32)"))
	}
	if c.EncryptionKey != "" && len(c.EncryptionKey) < 32 {
		errs = append(errs, errors.New("ENCRYPTION_KEY: must be at least 32 characters (try: openssl rand -hex 32)"))
	}
	if c.IngestTimeout >= 5*time.Second {
		errs = append(errs, errors.New("INGEST_TIMEOUT: must be under 5s, Segment's own timeout, so a slow database answers 503 rather than a timeout"))
	}
	return errs
}

// SecureCookies says whether session cookies carry the Secure flag.
func (c *Config) SecureCookies() bool {
	switch c.CookieSecure {
	case "true":
		return true
	case "false":
		return false
	}
	return strings.HasPrefix(c.BaseURL, "https://")
}

// UsesEmbedded reports whether Inlet runs on its embedded SQLite default.
func (c *Config) UsesEmbedded() bool { return c.DatabaseURL == "" }
