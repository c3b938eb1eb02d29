// Package web is the one Echo server. The surfaces live in rooms of their
// own (web/webhook, web/trackingapi, web/dashboard); this package wires them,
// lists every route in routes.go, and owns what they share: middleware, the
// one error mapping (errors.go), logging, health and the metrics endpoint.
package web

import (
	"context"
	"errors"
	"fmt"
	"github.com/inlet-dev/inlet/internal/clientip"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/docs"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/credcache"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web/api"
	"github.com/inlet-dev/inlet/web/dashboard"
	"github.com/inlet-dev/inlet/web/docsite"
	"github.com/inlet-dev/inlet/web/trackingapi"
	"github.com/inlet-dev/inlet/web/unsubscribe"
	"github.com/inlet-dev/inlet/web/webhook"
	"github.com/labstack/echo/v4"
)

// Deps are what the server is wired from in main (and in tests). Every
// field is required: each surface gets exactly the parts it uses.
type Deps struct {
	Config   *config.Config
	Store    *store.Store
	Ingester *ingest.Ingester
	Logger   *slog.Logger
	Auth     *auth.Service      // admins and sessions, for the dashboard
	Status   *status.Aggregator // the connection status the settings page shows
	Attempts status.Recorder    // where webhook and /v1 deliveries are recorded (Status, metrics, or both)
	Metrics  *metrics.Metrics   // served at GET /metrics; it also counts every request
	// Suppressions is the cache the ingest gate reads, so an erasure made
	// through /api/v1 applies to the next webhook at once. Optional: nil
	// builds one of the API's own (the gate then sees erasures within 2 s).
	Suppressions *profiles.Suppressions
	Profiles     profiles.Options // erasure's profile settings (PROFILE_MAX_ANONYMOUS_IDS)
	// Audiences evaluates and edits audiences; nil (PROFILES=off) makes
	// the audience routes answer 503.
	Audiences *audiences.Engine
	// APILimits bound /api/v1 lists and exports; zero fields take
	// api.DefaultLimits (tests lower them).
	APILimits api.Limits
	// Journeys runs journeys (started and closed by the caller); nil: the
	// journey routes still edit definitions, nothing runs them.
	Journeys *journeys.Engine
	// Email, when set, is the email service the journeys send with (so
	// both share the unsubscribe key); nil builds one from Config.
	Email *email.Service
}

// Server owns the Echo instance, the listener and the surfaces it routes to.
type Server struct {
	config  *config.Config
	store   *store.Store
	log     *slog.Logger
	metrics *metrics.Metrics
	echo    *echo.Echo
	http    *http.Server
	ln      net.Listener

	// The credential caches the surfaces read and the dashboard invalidates.
	workspaces *credcache.Workspaces
	writeKeys  *credcache.WriteKeys
	apiTokens  *credcache.APITokens

	webhook   *webhook.Handler
	tracking  *trackingapi.Handler
	dashboard *dashboard.Handler
	api       *api.Handler
	docs      *docsite.Handler
	// unsubscribe is the public one-click unsubscribe surface.
	unsubscribe *unsubscribe.Handler
	email       *email.Service
	// background runs work requests start but do not wait for (erasure
	// notices); Close ends it and waits for it.
	background *lifecycle.Group
}

// credTTL is how long a cached secret or write key is trusted: a change
// made by another instance or the CLI (`inlet secret set`, which promises
// every running instance applies it within 2 s) is seen within it. One
// indexed read per workspace and key in use per second is what it costs.
const credTTL = time.Second

// New builds the server, its surfaces and routes; it does not listen yet.
func New(d Deps) (*Server, error) {
	var missing []string
	for name, ok := range map[string]bool{
		"Config": d.Config != nil, "Store": d.Store != nil, "Ingester": d.Ingester != nil, "Logger": d.Logger != nil,
		"Auth": d.Auth != nil, "Status": d.Status != nil, "Attempts": d.Attempts != nil, "Metrics": d.Metrics != nil,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("web: Deps without %s", strings.Join(missing, ", "))
	}
	s := &Server{
		config:     d.Config,
		store:      d.Store,
		log:        d.Logger,
		metrics:    d.Metrics,
		echo:       echo.New(),
		workspaces: credcache.NewWorkspaces(d.Store, credTTL),
		writeKeys:  credcache.NewWriteKeys(d.Store, credTTL, d.Logger),
		apiTokens:  credcache.NewAPITokens(d.Store, credTTL, d.Logger),
	}
	supp := d.Suppressions
	if supp == nil {
		supp = profiles.NewSuppressions(d.Store)
	}
	dests := newDestinations(d.Config)
	// Every erasure made through the server (dashboard, API, Segment's
	// delete calls) notifies the destinations that opted in.
	s.background = lifecycle.New(context.Background(), "erasure notices")
	if d.Profiles.Notify == nil {
		d.Profiles.Notify = erasureNotifier(s.background, d.Store, dests.Sender, d.Logger)
	}
	s.webhook = &webhook.Handler{Workspaces: s.workspaces, Ingester: d.Ingester, Attempts: d.Attempts,
		MaxBodyBytes: d.Config.MaxBodyBytes, FirstElementMaxEvents: d.Config.FirstElementMaxEvents,
		Erase: segmentEraser(d.Store, supp, d.Profiles)}
	s.tracking = &trackingapi.Handler{Keys: s.writeKeys, Ingester: d.Ingester, Attempts: d.Attempts}
	// One client address for the throttle, the access log and the delivery
	// log: X-Forwarded-For only from TRUSTED_PROXIES.
	s.echo.IPExtractor = clientip.Extractor(d.Config.TrustedProxies)
	s.dashboard = &dashboard.Handler{Store: d.Store, Auth: d.Auth, Status: d.Status,
		Workspaces: s.workspaces, WriteKeys: s.writeKeys, APITokens: s.apiTokens, Suppressions: supp, Profiles: d.Profiles,
		BaseURL: d.Config.BaseURL, SecretGrace: d.Config.SecretGrace, Addr: s.Addr,
		Destinations: dests, FirstElementMaxEvents: d.Config.FirstElementMaxEvents, Audiences: d.Audiences}
	s.api = api.New(d.Store, &auth.APITokens{Cache: s.apiTokens}, supp, d.Profiles, d.APILimits)
	s.docs = &docsite.Handler{Files: docs.FS}
	s.api.Audiences = d.Audiences
	s.email = d.Email
	if s.email == nil {
		s.email = &email.Service{Store: d.Store, Defaults: email.DefaultsFrom(d.Config), BaseURL: d.Config.BaseURL}
	}
	s.api.Email = s.email
	s.api.Journeys = d.Journeys
	s.dashboard.Email = s.email
	s.dashboard.Journeys = d.Journeys
	s.unsubscribe = &unsubscribe.Handler{Store: d.Store, Email: s.email}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	if s.metrics != nil {
		// Route labels come from this table only (review item 3).
		var patterns []string
		for _, r := range s.echo.Routes() {
			patterns = append(patterns, r.Path)
		}
		s.metrics.SetRoutes(patterns)
	}
	s.http = &http.Server{
		Handler: s.echo,
		// A sender that trickles headers or a body is cut off instead of
		// holding a goroutine: Segment sends whole requests at once.
		ReadHeaderTimeout: min(5*time.Second, readTimeout(d.Config)),
		ReadTimeout:       readTimeout(d.Config),
		WriteTimeout:      writeTimeout(d.Config),
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

// writeTimeout is WRITE_TIMEOUT, or its default for a Config built by hand.
func writeTimeout(c *config.Config) time.Duration {
	if c.WriteTimeout > 0 {
		return c.WriteTimeout
	}
	return 30 * time.Second
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
	return s.background.Stop(ctx)
}

// InvalidateWorkspace drops cached secrets after a settings change so the
// verifier sees the new secret at once.
func (s *Server) InvalidateWorkspace() { s.workspaces.Invalidate() }

// segmentEraser honours Segment's deletion requests: an erasure of the
// userId recorded with source segment, its ids suppressed (every erasure's
// default: Segment's retries and late events must not bring the person back).
func segmentEraser(st *store.Store, supp *profiles.Suppressions, opts profiles.Options) webhook.Eraser {
	return func(ctx context.Context, ws uuid.UUID, userID, messageID string) (uuid.UUID, int64, error) {
		res, err := profiles.Erase(ctx, st, ws, profiles.EraseRequest{UserID: userID, Source: "segment",
			RequestedBy: "segment (delete call " + messageID + ")", Suppress: true}, supp, opts)
		return res.ErasureID, res.EventsDeleted, err
	}
}
