package api

import (
	"net/http"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// UserDelete is DELETE /api/v1/users/:userId (write token): erase the user's
// profile and every event of every identity of it. ?suppress=false skips
// suppressing the ids afterwards.
func (h *Handler) UserDelete(c echo.Context) error {
	id := c.Param("userId")
	if id == "" || badText(id) {
		return jsonError(c, http.StatusBadRequest, "userId: not a valid id")
	}
	suppress := true
	switch c.QueryParam("suppress") {
	case "", "true", "1":
	case "false", "0":
		suppress = false
	default:
		return jsonError(c, http.StatusBadRequest, "suppress: true or false")
	}
	t := tokenOf(c)
	by := "api token " + t.Prefix + "…"
	if t.Name != "" {
		by = "api token " + t.Name + " (" + t.Prefix + "…)"
	}
	res, err := profiles.Erase(c.Request().Context(), h.Store, t.WorkspaceID,
		profiles.EraseRequest{UserID: id, RequestedBy: by, Source: "api", Suppress: suppress}, h.Suppressions, h.Profiles)
	if err != nil {
		return h.unavailable(c, err)
	}
	h.Logger.Info("user erased", "workspace", t.WorkspaceID, "erasure", res.ErasureID, "identities", res.Identities,
		"events_deleted", res.EventsDeleted, "suppressed", res.Suppressed, "by", by)
	return c.JSON(http.StatusOK, res)
}

// SuppressionDelete is DELETE /api/v1/suppressions/:userId (write token):
// lift the suppression of an erased user's ids.
func (h *Handler) SuppressionDelete(c echo.Context) error {
	id := c.Param("userId")
	if id == "" || badText(id) {
		return jsonError(c, http.StatusBadRequest, "userId: not a valid id")
	}
	n, err := profiles.LiftSuppression(c.Request().Context(), h.Store, tokenOf(c).WorkspaceID, store.IdentityUser, id, h.Suppressions)
	if err != nil {
		return h.unavailable(c, err)
	}
	if n == 0 {
		return jsonError(c, http.StatusNotFound, "this userId is not suppressed")
	}
	return c.JSON(http.StatusOK, map[string]any{"lifted": n})
}
