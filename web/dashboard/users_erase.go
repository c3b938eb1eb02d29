package dashboard

import (
	"fmt"
	"net/http"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/labstack/echo/v4"
)

// UserDelete is POST /dashboard/users/:userId/delete.
func (h *Handler) UserDelete(c echo.Context) error {
	ref, err := userRef(c)
	if err != nil {
		return err
	}
	return h.erase(c, ref)
}

// AnonymousDelete is POST /dashboard/anonymous/:anonymousId/delete.
func (h *Handler) AnonymousDelete(c echo.Context) error {
	ref, err := anonRef(c)
	if err != nil {
		return err
	}
	return h.erase(c, ref)
}

// erase deletes the profile ref names with every event of its ids, once
// confirmed, and suppresses the ids unless the box was unticked.
func (h *Handler) erase(c echo.Context, ref profileRef) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	if c.FormValue("confirm") != "yes" {
		return h.renderUser(c, http.StatusUnprocessableEntity, ref,
			"Tick the box to confirm: the profile and all its events are deleted for good.")
	}
	admin, _ := h.admin(c)
	req := profiles.EraseRequest{RequestedBy: "admin " + admin.Email, Source: "dashboard", Suppress: c.FormValue("suppress") == "yes"}
	if ref.anonymous() {
		req.AnonymousID = ref.id
	} else {
		req.UserID = ref.id
	}
	res, err := profiles.Erase(c.Request().Context(), h.Store, ws.ID, req, h.Suppressions, h.Profiles)
	if err != nil {
		return fmt.Errorf("erase profile: %w", err)
	}
	// Never the ids: the log says that an erasure happened, not whom.
	logger(c).Info("user erased", "workspace", ws.ID, "erasure", res.ErasureID, "identities", res.Identities,
		"events_deleted", res.EventsDeleted, "suppressed", res.Suppressed, "admin", admin.Email)
	msg := fmt.Sprintf("Deleted the profile, %s and %s.", plural(res.Identities, "id", "ids"), plural(res.EventsDeleted, "event", "events"))
	if res.Suppressed {
		msg += " Their later events are acknowledged and not stored."
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, ref.url())
}

// UserUnsuppress is POST /dashboard/users/:userId/unsuppress.
func (h *Handler) UserUnsuppress(c echo.Context) error {
	ref, err := userRef(c)
	if err != nil {
		return err
	}
	return h.unsuppress(c, ref)
}

// AnonymousUnsuppress is POST /dashboard/anonymous/:anonymousId/unsuppress.
func (h *Handler) AnonymousUnsuppress(c echo.Context) error {
	ref, err := anonRef(c)
	if err != nil {
		return err
	}
	return h.unsuppress(c, ref)
}

func (h *Handler) unsuppress(c echo.Context, ref profileRef) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	n, err := profiles.LiftSuppression(c.Request().Context(), h.Store, ws.ID, ref.kind, ref.id, h.Suppressions)
	if err != nil {
		return fmt.Errorf("lift suppression: %w", err)
	}
	if n == 0 {
		h.flash(c, "error", "This id was not suppressed.")
	} else {
		admin, _ := h.admin(c)
		logger(c).Info("suppression lifted", "workspace", ws.ID, "ids", n, "admin", admin.Email)
		h.flash(c, "success", fmt.Sprintf("Suppression lifted for %d ids: their events are stored again from now on.", n))
	}
	return c.Redirect(http.StatusSeeOther, ref.url())
}

// plural says "1 id", "2 ids": the admin reads the count after an erasure.
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
