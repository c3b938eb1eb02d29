package web

import (
	"crypto/subtle"
	"net/netip"
	"strings"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/labstack/echo/v4"
)

// metricsShow serves GET /metrics in the Prometheus text format, to clients
// from METRICS_ALLOWED_NETWORKS (loopback by default) or holding
// METRICS_TOKEN. The client address is c.RealIP(), the one address
// internal/clientip decides (X-Forwarded-For only from TRUSTED_PROXIES), so
// a forged header cannot make a remote client look local.
func (s *Server) metricsShow(c echo.Context) error {
	if !s.metricsAllowed(c) {
		if s.config.MetricsToken != "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="inlet metrics"`)
			return apperr.New(apperr.Unauthorized, "metrics need Authorization: Bearer <METRICS_TOKEN>, or a client in METRICS_ALLOWED_NETWORKS")
		}
		return apperr.New(apperr.Forbidden, "metrics answer only clients in METRICS_ALLOWED_NETWORKS (default loopback) or holding METRICS_TOKEN")
	}
	s.metrics.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}

// metricsAllowed: a valid token lets any address in; without one, the
// client must be in an allowed network. A wrong token is refused even from
// an allowed network, so a misconfigured scraper is noticed.
func (s *Server) metricsAllowed(c echo.Context) bool {
	if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" && s.config.MetricsToken != "" {
		got, ok := bearerToken(h)
		// Constant time, so the answer's timing does not spell out the token.
		return ok && subtle.ConstantTimeCompare([]byte(got), []byte(s.config.MetricsToken)) == 1
	}
	addr, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range s.config.MetricsNetworks {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
