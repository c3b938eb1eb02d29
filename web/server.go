// Package web is the one Echo server: the public webhook and the dashboard,
// each its own route group with its own middleware (see routes.go).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// Deps are what the server is wired from in main (and in tests).
type Deps struct {
	Config   *config.Config
	Store    *store.Store
	Ingester *ingest.Ingester
	Logger   *slog.Logger
	Attempts AttemptRecorder // optional; records webhook deliveries for the dashboard
	Auth     *auth.Service   // optional; built from Config and Store when nil
	// Metrics is optional; GET /metrics answers 404 without it.
	Metrics *metrics.Metrics
	// Status answers the connection status on the settings page; optional
	// (memory only, fed by the webhook, when nil).
	Status *status.Aggregator
}

// Server owns the Echo instance and the listener.
type Server struct {
	deps     Deps
	echo     *echo.Echo
	http     *http.Server
	ln       net.Listener
	secrets  *secretCache
	attempts AttemptRecorder
	log      *slog.Logger
	auth     *auth.Service
	metrics  *metrics.Metrics
	status   *status.Aggregator
}

// New builds the server and its routes; it does not listen yet.
func New(d Deps) (*Server, error) {
	if d.Config == nil || d.Store == nil || d.Ingester == nil {
		return nil, errors.New("web: Config, Store and Ingester are required")
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &Server{
		deps:     d,
		echo:     echo.New(),
		secrets:  newSecretCache(d.Store, 5*time.Second),
		attempts: d.Attempts,
		log:      d.Logger,
		metrics:  d.Metrics,
	}
	if s.status = d.Status; s.status == nil {
		s.status = status.NewAggregator(nil, status.Options{Logger: d.Logger})
		if s.attempts == nil {
			s.attempts = s.status
		}
	}
	if s.attempts == nil {
		s.attempts = status.Discard{}
	}
	if s.auth = d.Auth; s.auth == nil {
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		a, err := auth.New(actx, d.Store, auth.Options{SessionKey: d.Config.SessionKey, Secure: d.Config.SecureCookies()})
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		s.auth = a
	}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	s.http = &http.Server{
		Handler: s.echo,
		// A sender that trickles headers or a body is cut off instead of
		// holding a goroutine: Segment sends whole requests at once.
		ReadHeaderTimeout: min(5*time.Second, readTimeout(d.Config)),
		ReadTimeout:       readTimeout(d.Config),
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.Logger.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// readTimeout is READ_TIMEOUT, or its default for a Config built by hand.
func readTimeout(c *config.Config) time.Duration {
	if c.ReadTimeout > 0 {
		return c.ReadTimeout
	}
	return 15 * time.Second
}

// Handler exposes the routes, for tests that use httptest.
func (s *Server) Handler() http.Handler { return s.echo }

// Open listens on addr (":0" picks a free port) and serves in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr is the address actually listened on.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Close stops accepting connections and waits for in-flight requests.
func (s *Server) Close(ctx context.Context) error {
	if err := s.http.Shutdown(ctx); err != nil {
		return fmt.Errorf("http shutdown: %w", err)
	}
	return nil
}

// InvalidateWorkspace drops cached secrets after a settings change so the
// verifier sees the new secret at once.
func (s *Server) InvalidateWorkspace() { s.secrets.invalidate() }
