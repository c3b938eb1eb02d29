package config

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// ExposeDocsPath is where Inlet serves docs/expose.md, on making it
// reachable from Segment (reverse proxy, tunnel): the settings page links
// to it, the start-up log names it under BASE_URL.
const ExposeDocsPath = "/docs/expose"

// defaultBaseURL derives BASE_URL from LISTEN_ADDR when it is unset, so the
// URLs shown match the port Inlet really listens on: ":8081" gives
// http://localhost:8081, "127.0.0.1:9000" gives http://127.0.0.1:9000.
func defaultBaseURL(listen string) string {
	host, port, err := net.SplitHostPort(strings.TrimSpace(listen))
	if err != nil || port == "" || port == "0" {
		return "http://localhost:8080"
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "localhost"
	}
	if port == "80" {
		return "http://" + bracketIPv6(host)
	}
	return "http://" + net.JoinHostPort(host, port)
}

func bracketIPv6(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// SegmentCannotReach says why Segment's servers cannot post to baseURL
// ("localhost", "a private address", …), or "" when it looks public. Only
// the URL is judged: no lookup is made, since Inlet often runs where DNS
// answers differently than on the internet.
func SegmentCannotReach(baseURL string) string {
	u, err := url.Parse(baseURL)
	if err != nil || u.Hostname() == "" {
		return "it is not an absolute URL"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		ip = ip.Unmap()
		switch {
		case ip.IsLoopback():
			return "it is a loopback address (this machine only)"
		case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsUnspecified(), cgnat.Contains(ip):
			return "it is a private address (your network only)"
		}
		return ""
	}
	switch {
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return "it is localhost (this machine only)"
	case strings.HasSuffix(host, ".local"), strings.HasSuffix(host, ".internal"), strings.HasSuffix(host, ".lan"),
		strings.HasSuffix(host, ".home.arpa"):
		return "it is a local network name (your network only)"
	case !strings.Contains(host, "."):
		return "it is a single-label host name, which only your network resolves"
	}
	return ""
}

// cgnat is 100.64.0.0/10 (carrier-grade NAT, also Tailscale's range): not
// reachable from the internet either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// SegmentCannotReach reports why Segment cannot reach this Inlet's BASE_URL,
// or "" when it looks public.
func (c *Config) SegmentCannotReach() string { return SegmentCannotReach(c.BaseURL) }
