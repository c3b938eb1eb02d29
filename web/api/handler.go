// Package api is the read and erase API under /api/v1: profiles, events,
// export and erasure for scripts and other services, authenticated with
// per-workspace API tokens (Authorization: Bearer). Routes are listed in
// web/routes.go; this package never imports web.
package api

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// Handler holds exactly what the API uses.
type Handler struct {
	Store        *store.Store
	Suppressions *profiles.Suppressions // shared with the ingest gate, so an erasure applies at once
	Profiles     profiles.Options
	Logger       *slog.Logger
	Audiences    *audiences.Engine // nil when profiles are off: audience routes answer 503

	touchMu sync.Mutex
	touched map[uuid.UUID]time.Time
}

// New builds the handler.
func New(st *store.Store, supp *profiles.Suppressions, opts profiles.Options, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.Default()
	}
	return &Handler{Store: st, Suppressions: supp, Profiles: opts, Logger: log, touched: map[uuid.UUID]time.Time{}}
}

// jsonError is the API's one error shape, {"error": "..."}, plus fields.
func jsonError(c echo.Context, status int, msg string, extra ...any) error {
	body := map[string]any{"error": msg}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	return c.JSON(status, body)
}

// tokenOf is the token that authenticated the request.
func tokenOf(c echo.Context) store.APIToken {
	t, _ := c.Get("api_token").(store.APIToken)
	return t
}

// RequireToken authenticates with a Bearer API token of the needed scope:
// 401 when it is missing, unknown or revoked; 403 when a read token is used
// on a write route.
func (h *Handler) RequireToken(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Cache-Control", "no-store")
			auth := c.Request().Header.Get("Authorization")
			const prefix = "bearer "
			if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="inlet"`)
				return jsonError(c, http.StatusUnauthorized, "missing API token: send Authorization: Bearer <token>")
			}
			raw := strings.TrimSpace(auth[len(prefix):])
			if len(raw) > 200 {
				return jsonError(c, http.StatusUnauthorized, "unknown API token")
			}
			hash := store.HashWriteKey(raw)
			t, err := h.Store.APITokenByHash(c.Request().Context(), hash)
			switch {
			case errors.Is(err, store.ErrNotFound):
				return jsonError(c, http.StatusUnauthorized, "unknown API token")
			case err != nil:
				h.Logger.Warn("api: token lookup", "err", err)
				c.Response().Header().Set("Retry-After", "5")
				return jsonError(c, http.StatusServiceUnavailable, "database unavailable, try again")
			}
			// The lookup was by hash; comparing again in constant time costs
			// nothing and keeps the check independent of the index.
			if subtle.ConstantTimeCompare([]byte(store.HashWriteKey(raw)), []byte(hash)) != 1 {
				return jsonError(c, http.StatusUnauthorized, "unknown API token")
			}
			if !t.Active() {
				return jsonError(c, http.StatusUnauthorized, "this API token was revoked")
			}
			if scope == store.ScopeWrite && t.Scope != store.ScopeWrite {
				return jsonError(c, http.StatusForbidden, "this API token is read-only; this route needs a write token")
			}
			c.Set("api_token", t)
			h.touch(t.ID)
			return next(c)
		}
	}
}

// touch records "last used" at most once a minute per token, off the request.
func (h *Handler) touch(id uuid.UUID) {
	now := time.Now()
	h.touchMu.Lock()
	last, ok := h.touched[id]
	if ok && now.Sub(last) < time.Minute {
		h.touchMu.Unlock()
		return
	}
	if len(h.touched) > 10000 {
		h.touched = map[uuid.UUID]time.Time{}
	}
	h.touched[id] = now
	h.touchMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Store.TouchAPIToken(ctx, id, now); err != nil {
			h.Logger.Debug("api: touch token", "err", err)
		}
	}()
}

// unavailable answers a store failure.
func (h *Handler) unavailable(c echo.Context, err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	h.Logger.Warn("api: store", "err", err, "path", c.Path())
	c.Response().Header().Set("Retry-After", "5")
	return jsonError(c, http.StatusServiceUnavailable, "database unavailable, try again")
}
