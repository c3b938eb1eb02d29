package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TLS modes of an SMTP connection.
const (
	TLSStartTLS = "starttls" // plain connect, then STARTTLS (required)
	TLSImplicit = "tls"      // TLS from the first byte (smtps, port 465)
	TLSNone     = "none"     // no TLS: a local relay only
)

// SMTP is where and how mail is sent: SMTP_URL, or a workspace's own
// settings in the #email section.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLSMode  string
}

// ParseSMTPURL reads smtp://user:pass@host:587 (STARTTLS), smtps://…
// (implicit TLS, port 465 by default) and ?tls=none|starttls|tls.
func ParseSMTPURL(raw string) (SMTP, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return SMTP{}, fmt.Errorf("not a URL such as smtp://user:pass@host:587")
	}
	s := SMTP{Host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		s.TLSMode, s.Port = TLSStartTLS, 587
	case "smtps":
		s.TLSMode, s.Port = TLSImplicit, 465
	default:
		return SMTP{}, fmt.Errorf("scheme %q: use smtp:// or smtps://", u.Scheme)
	}
	if s.Host == "" {
		return SMTP{}, fmt.Errorf("no host: use smtp://user:pass@host:587")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTP{}, fmt.Errorf("port %q is not 1 to 65535", p)
		}
		s.Port = n
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if m := u.Query().Get("tls"); m != "" {
		if !ValidTLSMode(m) {
			return SMTP{}, fmt.Errorf("tls=%q: use starttls, tls or none", m)
		}
		s.TLSMode = m
	}
	return s, nil
}

// ValidTLSMode says whether m is one of starttls, tls, none.
func ValidTLSMode(m string) bool { return m == TLSStartTLS || m == TLSImplicit || m == TLSNone }

// Addr is host:port for dialing.
func (s SMTP) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// ParseFrom reads EMAIL_FROM: ann@example.com or Inlet <ann@example.com>.
func ParseFrom(raw string) (name, addr string, err error) {
	a, err := mail.ParseAddress(strings.TrimSpace(raw))
	if err != nil {
		return "", "", fmt.Errorf("%q is not an address such as ann@example.com or Inlet <ann@example.com>", raw)
	}
	return a.Name, a.Address, nil
}

// FrequencyCap is "at most N group emails per user per Period".
type FrequencyCap struct {
	N      int
	Period time.Duration
}

// ParseFrequencyCap reads N/duration with the audiences' units (s, m, h, d):
// "3/1d". Empty is no cap.
func ParseFrequencyCap(raw string) (FrequencyCap, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return FrequencyCap{}, nil
	}
	n, per, ok := strings.Cut(raw, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 1 {
		return FrequencyCap{}, fmt.Errorf("%q: use N/period such as 3/1d", raw)
	}
	d, err := ParseShortDuration(per)
	if err != nil {
		return FrequencyCap{}, fmt.Errorf("%q: %w", raw, err)
	}
	return FrequencyCap{N: count, Period: d}, nil
}

// ParseShortDuration reads Ns, Nm, Nh or Nd (whole N ≥ 1).
func ParseShortDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if len(v) < 2 {
		return 0, fmt.Errorf("%q is not a duration such as 30s, 5m, 1h or 7d", v)
	}
	unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[v[len(v)-1]]
	n, err := strconv.Atoi(v[:len(v)-1])
	if unit == 0 || err != nil || n < 1 || n > 100000 {
		return 0, fmt.Errorf("%q is not a duration such as 30s, 5m, 1h or 7d", v)
	}
	return time.Duration(n) * unit, nil
}

// loadEmail reads the email settings of c.
func (c *Config) loadEmail(str func(name, def string) string, secret func(string) string, errs *[]error) {
	if raw := secret("SMTP_URL"); raw != "" {
		s, err := ParseSMTPURL(raw)
		if err != nil {
			// The URL may hold a password: never repeat it.
			*errs = append(*errs, fmt.Errorf("SMTP_URL: %w", err))
		}
		c.SMTP = s
	}
	if raw := str("EMAIL_FROM", ""); raw != "" {
		var err error
		if c.EmailFromName, c.EmailFrom, err = ParseFrom(raw); err != nil {
			*errs = append(*errs, fmt.Errorf("EMAIL_FROM: %w", err))
		}
	}
	var err error
	if c.EmailFrequencyCap, err = ParseFrequencyCap(str("EMAIL_FREQUENCY_CAP", "")); err != nil {
		*errs = append(*errs, fmt.Errorf("EMAIL_FREQUENCY_CAP: %w", err))
	}
}
