// Package clientip decides the one client address Inlet believes for a
// request: the sign-in throttle, the access log and the delivery log all use
// it, so an address that is throttled is the address that is logged.
package clientip

import (
	"net"
	"net/netip"

	"github.com/labstack/echo/v4"
)

// Extractor returns the function Echo calls for c.RealIP(). With no trusted
// proxies it is the direct peer address, whatever X-Forwarded-For says (a
// client could otherwise pick a fresh address for every guess). With
// TRUSTED_PROXIES it is the rightmost X-Forwarded-For address that is not a
// trusted proxy, and only when the direct peer is one of them; Echo's
// defaults of trusting loopback and private ranges are turned off, so only
// the configured ranges count.
func Extractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
