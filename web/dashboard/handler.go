// Package dashboard is the admin's surface: sign-in, the settings page (the
// webhook URL, the shared secret, write keys, the connection status), the
// events browser and their forms. Pages are server-rendered with templ;
// every form is CSRF-checked and answered post/redirect/get.
package dashboard

import (
	"log/slog"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/credcache"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// Handler holds what the dashboard uses.
type Handler struct {
	Store  *store.Store
	Auth   *auth.Service      // admins, sessions, CSRF tokens, sign-in throttling
	Status *status.Aggregator // the connection status shown on the settings page
	// The surfaces' caches, invalidated when a form changes what they hold.
	Workspaces *credcache.Workspaces
	WriteKeys  *credcache.WriteKeys
	APITokens  *credcache.APITokens
	// Suppressions is the cache the ingest gate reads, so an erasure from
	// the profile page applies to the next event at once.
	Suppressions *profiles.Suppressions
	Profiles     profiles.Options // erasure's profile settings
	BaseURL      string           // BASE_URL: the webhook URL shown to admins starts with it
	SecretGrace  time.Duration    // how long a replaced secret keeps verifying
	// Destinations holds what the destination pages need beyond the store.
	Destinations Destinations
	// FirstElementMaxEvents (FIRST_ELEMENT_MAX_EVENTS), shown with the
	// element-0 setting.
	FirstElementMaxEvents int
	// Audiences edits, previews and explains audiences; nil when profiles
	// are off.
	Audiences *audiences.Engine
	// Addr is where this server listens, known once it does: the test
	// event is posted there.
	Addr func() string
	// Email holds the workspaces' SMTP settings and sends the test email.
	Email *email.Service
	// Journeys is woken when a journey is saved, enabled or disabled; nil
	// when nothing runs journeys in this process.
	Journeys *journeys.Engine
}

// webhookPath is where Segment posts (the route web/routes.go serves).
const webhookPath = "/api/public/webhooks/segment"

// errFormExpired refuses a form whose CSRF token does not match the session's.
var errFormExpired = apperr.New(apperr.Forbidden, "This form has expired or did not come from this site. Reload the page and try again.")

// logger is the request's logger, with its request_id.
func logger(c echo.Context) *slog.Logger { return reqlog.From(c.Request().Context()) }
