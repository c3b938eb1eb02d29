// Package api is the read and erase API under /api/v1: profiles, events,
// export and erasure for scripts and other services, authenticated with
// per-workspace API tokens (Authorization: Bearer). Routes are listed in
// web/routes.go; this package never imports web.
//
// Handlers return errors like every other surface: refusals as
// *apperr.Error, the store's failures wrapped with context; web/errors.go
// turns them into {"error": "..."} with the right status and logs them with
// the request id.
package api

import (
	"errors"
	"net/http"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// Handler holds exactly what the API uses.
type Handler struct {
	Store        *store.Store
	Tokens       *auth.APITokens
	Suppressions *profiles.Suppressions // shared with the ingest gate, so an erasure applies at once
	Profiles     profiles.Options
	Email        *email.Service    // templates' unsubscribe links; nil renders none
	Journeys     *journeys.Engine  // woken after a journey changes; nil when not running
	Audiences    *audiences.Engine // nil when profiles are off: audience routes answer 503

	budget *Budget
	reads  *reads // the store, for lists and exports: a bounded share of its pool
}

// New builds the handler; limits bound what API reads may take (see
// Limits). Its log lines go to the request's logger (internal/reqlog), with
// the request id.
func New(st *store.Store, tokens *auth.APITokens, supp *profiles.Suppressions, opts profiles.Options, limits Limits) *Handler {
	limits = limits.withDefaults(st)
	return &Handler{Store: st, Tokens: tokens, Suppressions: supp, Profiles: opts,
		budget: NewBudget(limits.Global, limits.PerToken), reads: newReads(st, limits.DBShare)}
}

// tokenOf is the token that authenticated the request.
func tokenOf(c echo.Context) store.APIToken {
	t, _ := c.Get("api_token").(store.APIToken)
	return t
}

// invalid is a refused parameter (400).
func invalid(msg string) error { return apperr.New(apperr.Invalid, msg) }

// RequireToken authenticates with a Bearer API token of the needed scope:
// 401 when it is missing, unknown, revoked or expired; 403 when a read
// token is used on a write route.
func (h *Handler) RequireToken(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "no-store")
			t, err := h.Tokens.Authenticate(c.Request().Context(), c.Request().Header.Get("Authorization"), scope)
			if err != nil {
				if errors.Is(err, auth.ErrNoBearer) {
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="inlet"`)
				}
				return err
			}
			c.Set("api_token", t)
			return next(c)
		}
	}
}

// Budgeted admits a list or export request within the read budget (global
// and per token), answering 429 with Retry-After past it.
func (h *Handler) Budgeted(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		release, err := h.budget.Admit(tokenOf(c).ID)
		if err != nil {
			return err
		}
		defer release()
		return next(c)
	}
}

// writeJSONStart sends the status and JSON headers of a streamed answer.
func writeJSONStart(c echo.Context) {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c.Response().WriteHeader(http.StatusOK)
}
