package api

import (
	"fmt"
	"net/http"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// UserDelete is DELETE /api/v1/users/:userId (write token): erase the
// user's profile and its events. ?suppress=false skips suppressing the ids
// afterwards.
func (h *Handler) UserDelete(c echo.Context) error {
	id, err := idParam(c, "userId")
	if err != nil {
		return err
	}
	return h.erase(c, profiles.EraseRequest{UserID: id})
}

// AnonymousDelete is DELETE /api/v1/anonymous/:anonymousId (write token):
// erase the profile the anonymous id belongs to, as the dashboard's
// anonymous profile page does.
func (h *Handler) AnonymousDelete(c echo.Context) error {
	id, err := idParam(c, "anonymousId")
	if err != nil {
		return err
	}
	return h.erase(c, profiles.EraseRequest{AnonymousID: id})
}

func (h *Handler) erase(c echo.Context, req profiles.EraseRequest) error {
	req.Suppress = true
	switch c.QueryParam("suppress") {
	case "", "true", "1":
	case "false", "0":
		req.Suppress = false
	default:
		return invalid("suppress: true or false")
	}
	t := tokenOf(c)
	req.RequestedBy = "api token " + t.Prefix + "…"
	if t.Name != "" {
		req.RequestedBy = "api token " + t.Name + " (" + t.Prefix + "…)"
	}
	req.Source = "api"
	res, err := profiles.Erase(c.Request().Context(), h.Store, t.WorkspaceID, req, h.Suppressions, h.Profiles)
	if err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	// Never the ids: the log says that an erasure happened, not whom.
	reqlog.From(c.Request().Context()).Info("user erased", "workspace", t.WorkspaceID, "erasure", res.ErasureID,
		"identities", res.Identities, "events_deleted", res.EventsDeleted, "suppressed", res.Suppressed, "by", req.RequestedBy)
	return c.JSON(http.StatusOK, res)
}

// SuppressionDelete is DELETE /api/v1/suppressions/:userId (write token):
// lift the suppression of an erased user's ids.
func (h *Handler) SuppressionDelete(c echo.Context) error {
	id, err := idParam(c, "userId")
	if err != nil {
		return err
	}
	return h.lift(c, store.IdentityUser, id, "this userId is not suppressed")
}

// AnonymousSuppressionDelete is DELETE
// /api/v1/anonymous/:anonymousId/suppression (write token): lift the
// suppression of the ids erased with this anonymous id.
func (h *Handler) AnonymousSuppressionDelete(c echo.Context) error {
	id, err := idParam(c, "anonymousId")
	if err != nil {
		return err
	}
	return h.lift(c, store.IdentityAnon, id, "this anonymousId is not suppressed")
}

func (h *Handler) lift(c echo.Context, kind, id, notSuppressed string) error {
	n, err := profiles.LiftSuppression(c.Request().Context(), h.Store, tokenOf(c).WorkspaceID, kind, id, h.Suppressions)
	if err != nil {
		return fmt.Errorf("lift suppression: %w", err)
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, notSuppressed)
	}
	return c.JSON(http.StatusOK, map[string]any{"lifted": n})
}
