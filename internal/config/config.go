// Package config reads every Inlet setting from the environment, applies
// defaults and validates them once at start, naming the variable at fault.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting. It is built once by Load and passed down;
// nothing reads the environment anywhere else.
type Config struct {
	DatabaseURL   string // postgres://… ; empty → embedded SQLite under DataDir
	DataDir       string // where the embedded default keeps its file
	ListenAddr    string // LISTEN_ADDR
	BaseURL       string // BASE_URL, the public URL shown to admins
	MaxBodyBytes  int64  // MAX_BODY_BYTES for the webhook
	LogFormat     string // text or json
	LogLevel      string // debug, info, warn, error
	AdminEmail    string // ADMIN_EMAIL
	AdminPassword string // ADMIN_PASSWORD (or _FILE)
	SessionKey    string // SESSION_KEY (or _FILE)
	CookieSecure  string // COOKIE_SECURE: auto, true, false
	EncryptionKey string // ENCRYPTION_KEY (or _FILE)
	MetricsToken  string // METRICS_TOKEN (or _FILE)
	// MetricsNetworks (METRICS_ALLOWED_NETWORKS): client networks /metrics
	// answers without the token; empty = none (token only).
	MetricsNetworks []netip.Prefix
	// DatabaseWait (DATABASE_WAIT): how long serve waits at start for a
	// PostgreSQL that refuses connections or is still starting.
	DatabaseWait   time.Duration
	RetentionDays  int           // RETENTION_DAYS, 0 = keep forever
	SecretGrace    time.Duration // SECRET_ROTATION_GRACE
	IngestQueue    int           // INGEST_QUEUE: requests that may wait for a commit
	IngestBatch    int           // INGEST_BATCH: most events per group commit
	IngestWriters  int           // INGEST_WRITERS: concurrent group committers
	IngestTimeout  time.Duration // INGEST_TIMEOUT: longest a webhook waits for its commit
	IngestInflight int64         // INGEST_INFLIGHT_BYTES: request bytes admitted at once
	ShutdownGrace  time.Duration // SHUTDOWN_TIMEOUT
	ReadTimeout    time.Duration // READ_TIMEOUT: longest a client may take to send one request
	WriteTimeout   time.Duration // WRITE_TIMEOUT: longest from a request's headers to the end of its answer
	IngestRead     int64         // INGEST_READ_BYTES: body bytes being received and verified at once
	// TrustedProxies (TRUSTED_PROXIES): peers whose X-Forwarded-For names
	// the client; empty = the direct peer is the client.
	TrustedProxies []netip.Prefix
	// FirstElementMaxEvents (FIRST_ELEMENT_MAX_EVENTS): most events in an
	// array signed only over element 0, where a workspace allows those.
	FirstElementMaxEvents int
	Profiles              bool // PROFILES: on or off
	ProfileMaxAnon        int  // PROFILE_MAX_ANONYMOUS_IDS
	ProfileMaxUsers       int  // PROFILE_MAX_USER_IDS
	AudiencesMax          int  // AUDIENCES_MAX_PER_WORKSPACE
	AudienceMaxNodes      int  // AUDIENCE_MAX_NODES
	AudienceMaxDepth      int  // AUDIENCE_MAX_DEPTH

	DestinationConcurrency   int             // DESTINATION_CONCURRENCY: requests in flight per destination
	DestinationTimeout       time.Duration   // DESTINATION_TIMEOUT: longest one delivery attempt may take
	DestinationRetryFor      time.Duration   // DESTINATION_RETRY_FOR: retry period before an event is marked failed
	DestinationSchedule      []time.Duration // DESTINATION_RETRY_SCHEDULE: waits between attempts
	DestinationDeny          []netip.Prefix  // DESTINATION_DENY_NETWORKS: networks destinations may not reach
	DestinationAllowMetadata bool            // DESTINATION_ALLOW_METADATA

	SMTP              SMTP          // SMTP_URL: every workspace's default SMTP server (Host "" = none)
	EmailFrom         string        // EMAIL_FROM's address
	EmailFromName     string        // EMAIL_FROM's display name
	EmailFrequencyCap FrequencyCap  // EMAIL_FREQUENCY_CAP (N 0 = none)
	EmailRate         int           // EMAIL_RATE: emails per second per workspace (0 = no limit)
	MessageRetryFor   time.Duration // MESSAGE_RETRY_FOR: how long a send that failed for now is retried
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
	{"METRICS_TOKEN", "", "Lets a scraper from any address read GET /metrics with Authorization: Bearer <token>, compared in constant time (METRICS_TOKEN_FILE also read)."},
	{"METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1", "Comma-separated CIDRs (or addresses) whose clients may read GET /metrics without METRICS_TOKEN; none = token only. The client address is the one TRUSTED_PROXIES decides: behind a reverse proxy on this host every request comes from loopback unless TRUSTED_PROXIES names the proxy (docs/operations.md)."},
	{"RETENTION_DAYS", "0", "Delete events older than this many days in the background; 0 keeps them forever."},
	{"SECRET_ROTATION_GRACE", "24h", "How long a replaced shared secret keeps verifying."},
	{"INGEST_QUEUE", "2048", "Webhook requests that may wait for a commit; beyond that Inlet answers 503."},
	{"INGEST_BATCH", "1000", "Most events written in one group commit."},
	{"INGEST_WRITERS", "2", "Group commits running at once."},
	{"INGEST_INFLIGHT_BYTES", "8388608", "Webhook body bytes being read, parsed or committed at once; beyond that Inlet answers 503 at once instead of slowing every request down."},
	{"INGEST_TIMEOUT", "3s", "Longest a webhook waits for its commit before answering 503 (Segment waits 5s)."},
	{"SHUTDOWN_TIMEOUT", "15s", "Longest a graceful shutdown may take."},
	{"DATABASE_WAIT", "30s", "How long serve waits at start for a PostgreSQL that refuses connections or says it is starting up (logged every few seconds); 0 = do not wait. Bad credentials, an unknown database and SQLite errors stop it at once; other commands never wait."},
	{"DESTINATION_CONCURRENCY", "32", "Delivery requests in flight at once per destination (each destination has its own, so a slow one holds back only itself)."},
	{"DESTINATION_TIMEOUT", "15s", "Longest one delivery attempt to a destination may take before it counts as failed."},
	{"DESTINATION_RETRY_FOR", "24h", "How long a failed delivery is retried before it is marked failed (shown on the destination's page, counted in /metrics, retryable)."},
	{"DESTINATION_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h", "Waits before each retry of a failed delivery, with ±20% jitter; the last repeats. A receiver's Retry-After replaces the wait."},
	{"DESTINATION_DENY_NETWORKS", "", "Comma-separated CIDRs destinations may not connect to, e.g. 10.0.0.0/8,192.168.0.0/16 (loopback and private networks are allowed by default). Checked on every connect."},
	{"DESTINATION_ALLOW_METADATA", "false", "true lets destinations reach cloud metadata addresses (169.254.169.254, fd00:ec2::254 and the like), refused by default."},
	{"INGEST_READ_BYTES", "8388608", "Request body bytes (webhook and Tracking API) held in memory while they arrive and before they are authenticated, all requests together; further requests wait their turn (up to INGEST_TIMEOUT), then get 503. Bounds what unauthenticated senders can make Inlet hold."},
	{"TRUSTED_PROXIES", "", "Comma-separated CIDRs (or addresses) of reverse proxies whose X-Forwarded-For is believed. The client address (sign-in throttle, access and delivery logs) is then the rightmost address not in these ranges; unset = the direct peer address, X-Forwarded-For ignored."},
	{"FIRST_ELEMENT_MAX_EVENTS", "1000", "Most events in one array signed only over its element 0 (Segment's Webhooks (Actions) batching), for workspaces that accept those; Segment's default batch size is 1000. Larger arrays get 413."},
	{"READ_TIMEOUT", "15s", "Longest a client may take to send one whole request (headers: at most 5s); slower senders are cut off."},
	{"WRITE_TIMEOUT", "30s", "Longest from a request's headers to the end of its answer (exports and Live extend it as they stream); a connection still busy then is closed."},
	{"PROFILES", "on", "on: every instance keeps user profiles from the stored events (in the background, never on the webhook's path); off: no profiles are kept (the profile pages and /api/v1/users answer from what was kept before)."},
	{"SMTP_URL", "", "Default SMTP server of every workspace: smtp://user:pass@host:587 (STARTTLS), smtps://user:pass@host:465 (implicit TLS), ?tls=none for a local relay. A workspace's own settings (#email on /dashboard/settings) win (SMTP_URL_FILE also read)."},
	{"EMAIL_FROM", "", "Default From of every workspace's email: ann@example.com or Inlet <ann@example.com>."},
	{"EMAIL_FREQUENCY_CAP", "", "At most N group emails per user per period, such as 3/1d (units s, m, h, d); unset: no cap. Transactional email is never capped; a workspace may set its own in #email."},
	{"EMAIL_RATE", "0", "Most emails sent per second per workspace; 0: no limit."},
	{"MESSAGE_RETRY_FOR", "24h", "How long an email the SMTP server refused for now (4xx, connection failure) is retried before it is logged failed."},
	{"PROFILE_MAX_ANONYMOUS_IDS", "100", "Most anonymous ids one profile holds; further ones (the latest linked) stay profiles of their own, so one shared or junk id cannot swallow thousands of visitors."},
	{"PROFILE_MAX_USER_IDS", "5", "Most userIds (ids events carry as userId) one profile holds; an alias merge past it is refused and listed among the identity warnings. A change applies to aliases processed from then on; `inlet profiles rebuild` applies it to all."},
	{"AUDIENCES_MAX_PER_WORKSPACE", "50", "Most audiences one workspace may define; a further one is refused with 422."},
	{"AUDIENCE_MAX_NODES", "32", "Most nodes (all, any, not, trait, performed, audience) in one audience's condition; a larger one is refused with 422."},
	{"AUDIENCE_MAX_DEPTH", "8", "Deepest nesting of an audience's condition (the root is depth 1); a deeper one is refused with 422."},
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
		DatabaseURL:     secret("DATABASE_URL"),
		DataDir:         str("DATA_DIR", "./data"),
		ListenAddr:      str("LISTEN_ADDR", ":8080"),
		BaseURL:         strings.TrimRight(str("BASE_URL", defaultBaseURL(str("LISTEN_ADDR", ":8080"))), "/"),
		MaxBodyBytes:    int64(integer("MAX_BODY_BYTES", 1<<20, 1024)),
		LogFormat:       strings.ToLower(str("LOG_FORMAT", "text")),
		LogLevel:        strings.ToLower(str("LOG_LEVEL", "info")),
		AdminEmail:      str("ADMIN_EMAIL", ""),
		AdminPassword:   secret("ADMIN_PASSWORD"),
		SessionKey:      secret("SESSION_KEY"),
		CookieSecure:    strings.ToLower(str("COOKIE_SECURE", "auto")),
		EncryptionKey:   secret("ENCRYPTION_KEY"),
		MetricsToken:    secret("METRICS_TOKEN"),
		MetricsNetworks: metricsNetworks(str("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1"), &errs),
		DatabaseWait:    waitDuration("DATABASE_WAIT", getenv, &errs),
		RetentionDays:   integer("RETENTION_DAYS", 0, 0),
		SecretGrace:     duration("SECRET_ROTATION_GRACE", 24*time.Hour),
		IngestQueue:     integer("INGEST_QUEUE", 2048, 1),
		IngestBatch:     integer("INGEST_BATCH", 1000, 1),
		IngestWriters:   integer("INGEST_WRITERS", 2, 1),
		IngestTimeout:   duration("INGEST_TIMEOUT", 3*time.Second),
		IngestInflight:  int64(integer("INGEST_INFLIGHT_BYTES", 8<<20, 64<<10)),
		ShutdownGrace:   duration("SHUTDOWN_TIMEOUT", 15*time.Second),
		ReadTimeout:     duration("READ_TIMEOUT", 15*time.Second),
		WriteTimeout:    duration("WRITE_TIMEOUT", 30*time.Second),
		IngestRead:      int64(integer("INGEST_READ_BYTES", 8<<20, 64<<10)),
		TrustedProxies:  prefixes("TRUSTED_PROXIES", getenv, &errs),
		// Segment's Webhooks (Actions) allows batches of up to 4000.
		FirstElementMaxEvents: integer("FIRST_ELEMENT_MAX_EVENTS", 1000, 1),
		ProfileMaxAnon:        integer("PROFILE_MAX_ANONYMOUS_IDS", 100, 1),
		ProfileMaxUsers:       integer("PROFILE_MAX_USER_IDS", 5, 1),
		AudiencesMax:          integer("AUDIENCES_MAX_PER_WORKSPACE", 50, 1),
		AudienceMaxNodes:      integer("AUDIENCE_MAX_NODES", 32, 1),
		AudienceMaxDepth:      integer("AUDIENCE_MAX_DEPTH", 8, 1),

		DestinationConcurrency: integer("DESTINATION_CONCURRENCY", 32, 1),
		DestinationTimeout:     duration("DESTINATION_TIMEOUT", 15*time.Second),
		DestinationRetryFor:    duration("DESTINATION_RETRY_FOR", 24*time.Hour),

		EmailRate:       integer("EMAIL_RATE", 0, 0),
		MessageRetryFor: duration("MESSAGE_RETRY_FOR", 24*time.Hour),
	}
	c.loadEmail(str, secret, &errs)
	var err error
	if c.DestinationSchedule, err = parseSchedule(str("DESTINATION_RETRY_SCHEDULE", "5s,5m,30m,2h,5h,10h,10h")); err != nil {
		errs = append(errs, fmt.Errorf("DESTINATION_RETRY_SCHEDULE: %w", err))
	}
	if c.DestinationDeny, err = ParseNetworks(str("DESTINATION_DENY_NETWORKS", "")); err != nil {
		errs = append(errs, fmt.Errorf("DESTINATION_DENY_NETWORKS: %w", err))
	}
	switch v := strings.ToLower(str("DESTINATION_ALLOW_METADATA", "false")); v {
	case "true", "1", "yes":
		c.DestinationAllowMetadata = true
	case "false", "0", "no":
	default:
		errs = append(errs, fmt.Errorf("DESTINATION_ALLOW_METADATA: %q must be true or false", v))
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

// metricsNetworks reads METRICS_ALLOWED_NETWORKS; "none" allows no network.
func metricsNetworks(v string, errs *[]error) []netip.Prefix {
	if strings.EqualFold(v, "none") {
		return nil
	}
	out, err := ParseNetworks(v)
	if err != nil {
		*errs = append(*errs, fmt.Errorf("METRICS_ALLOWED_NETWORKS: %w (or none)", err))
	}
	return out
}

// waitDuration reads DATABASE_WAIT: a duration, where 0 turns waiting off.
func waitDuration(name string, getenv func(string) string, errs *[]error) time.Duration {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return 30 * time.Second
	}
	if v == "0" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		*errs = append(*errs, fmt.Errorf("%s: %q is not a duration such as 30s or 2m (0 = do not wait)", name, v))
		return 30 * time.Second
	}
	return d
}

// prefixes parses a comma-separated list of CIDRs or single addresses.
func prefixes(name string, getenv func(string) string, errs *[]error) []netip.Prefix {
	var out []netip.Prefix
	for _, f := range strings.Split(getenv(name), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("%s: %q is not a CIDR such as 10.0.0.0/8 or an address", name, f))
			continue
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out
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
	if c.DestinationConcurrency > 1024 {
		errs = append(errs, errors.New("DESTINATION_CONCURRENCY: at most 1024 requests in flight per destination"))
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

// parseSchedule reads comma-separated positive durations.
func parseSchedule(v string) ([]time.Duration, error) {
	var out []time.Duration
	for _, f := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q is not a list of positive durations such as 5s,5m,30m,2h", v)
		}
		out = append(out, d)
	}
	return out, nil
}

// ParseNetworks reads a comma-separated list of CIDRs or single addresses.
func ParseNetworks(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			ip, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8 or an address", f)
			}
			ip = ip.Unmap()
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/8", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}
