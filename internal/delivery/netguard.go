package delivery

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// metadataNetworks are cloud instance-metadata endpoints: a destination that
// reached them could read the host's cloud credentials.
var metadataNetworks = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"), // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
	netip.MustParsePrefix("169.254.170.2/32"),   // AWS ECS task metadata
	netip.MustParsePrefix("169.254.170.23/32"),  // AWS EKS pod identity
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS IMDS over IPv6
	netip.MustParsePrefix("fd00:ec2::23/128"),   // AWS EKS pod identity over IPv6
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("168.63.129.16/32"),   // Azure wire server
}

// NetGuard decides which addresses destinations may connect to. Loopback and
// private networks are allowed (a self-hosted Inlet forwards to internal
// services); Deny lists networks to refuse; cloud metadata is refused unless
// AllowMetadata. It is checked when connecting, on the address actually
// dialled, so a name that resolves differently later (DNS rebinding) cannot
// get around it.
type NetGuard struct {
	Deny          []netip.Prefix
	AllowMetadata bool
}

// ErrRefusedAddress is wrapped by every refusal.
var ErrRefusedAddress = errors.New("address refused")

// Check refuses ip when a rule forbids it.
func (g *NetGuard) Check(ip netip.Addr) error {
	ip = ip.Unmap()
	if !g.AllowMetadata {
		for _, p := range metadataNetworks {
			if p.Contains(ip) {
				return fmt.Errorf("%w: %s is a cloud metadata address (set DESTINATION_ALLOW_METADATA=true to allow it)", ErrRefusedAddress, ip)
			}
		}
	}
	for _, p := range g.Deny {
		if p.Contains(ip) {
			return fmt.Errorf("%w: %s is in DESTINATION_DENY_NETWORKS (%s)", ErrRefusedAddress, ip, p)
		}
	}
	return nil
}

// control is a net.Dialer Control: it runs after name resolution, just
// before each connect.
func (g *NetGuard) control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrRefusedAddress, address)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %q is not an IP address", ErrRefusedAddress, host)
	}
	return g.Check(ip)
}

// MaxURLLength bounds a destination URL.
const MaxURLLength = 2048

// ValidateURL checks a destination URL as an admin typed it and returns it
// normalised: absolute http(s), a host, no credentials, and, when the host is
// an IP address, one the guard allows (names are checked when connecting).
func (g *NetGuard) ValidateURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", errors.New("URL is required")
	}
	if len(raw) > MaxURLLength {
		return "", fmt.Errorf("URL is longer than %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("URL is not valid")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("URL must start with http:// or https://")
	}
	if u.Hostname() == "" {
		return "", errors.New("URL has no host")
	}
	if u.User != nil {
		return "", errors.New("URL must not carry a user name or password: receivers authenticate Inlet by the webhook-signature header")
	}
	if u.Fragment != "" {
		return "", errors.New("URL must not have a #fragment")
	}
	if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); err == nil {
		if err := g.Check(ip); err != nil {
			return "", err
		}
	}
	return u.String(), nil
}
