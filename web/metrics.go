package web

import (
	"crypto/subtle"
	"strings"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/labstack/echo/v4"
)

// metricsShow serves GET /metrics in the Prometheus text format. With
// METRICS_TOKEN set, the scraper must send it as a Bearer token.
func (s *Server) metricsShow(c echo.Context) error {
	if want := s.config.MetricsToken; want != "" {
		got, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
		// Constant time, so the answer's timing does not spell out the token.
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="inlet metrics"`)
			return apperr.New(apperr.Unauthorized, "metrics need Authorization: Bearer <METRICS_TOKEN>")
		}
	}
	s.metrics.Handler().ServeHTTP(c.Response(), c.Request())
	return nil
}

func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
