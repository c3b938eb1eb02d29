package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"

	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// SecretSave saves a workspace's shared secret; the one it replaces keeps
// verifying for SecretGrace.
func (h *Handler) SecretSave(c echo.Context) error {
	f := newSecretForm(c)
	ws, err := h.formWorkspace(c, f.WorkspaceID)
	if err != nil {
		return err
	}
	if ferr := f.Validate(); ferr != nil {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.Source.SecretError = ferr.Msg
		})
	}
	admin, _ := h.admin(c)
	grace := h.SecretGrace
	if err := h.Store.SetSecret(c.Request().Context(), ws.ID, f.Secret, admin.Email, grace); err != nil {
		return fmt.Errorf("save secret: %w", err)
	}
	h.Workspaces.Invalidate()
	logger(c).Info("shared secret saved", "workspace", ws.ID, "admin", admin.Email)
	msg := "Shared secret saved. Paste the same secret into Segment's Webhooks destination."
	if ws.Secret.IsSet() && ws.Secret.Current != f.Secret {
		msg = fmt.Sprintf("New shared secret saved. The previous one keeps working until %s, so update Segment before then. Up to %d secrets verify at once; saving more drops the oldest previous one.",
			templates.FormatTime(time.Now().Add(grace)), store.MaxSecrets)
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

// SecretRevoke stops one replaced secret before its grace ends: the admin
// sees in the recent deliveries which secret Segment signs with, then
// revokes the ones it no longer uses.
func (h *Handler) SecretRevoke(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.FormValue("secret_id"), 10, 64)
	if err != nil {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such previous secret.", Err: err}
	}
	var tail string
	for _, p := range ws.Secret.PreviousSecrets {
		if p.ID == id {
			tail = store.SecretTail(p.Secret)
		}
	}
	err = h.Store.RevokeSecret(c.Request().Context(), ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "This workspace has no such previous secret (it may have expired already).", Err: err}
	}
	if err != nil {
		return fmt.Errorf("revoke secret: %w", err)
	}
	h.Workspaces.Invalidate()
	logger(c).Info("previous shared secret revoked", "workspace", ws.ID, "secret_id", id)
	h.flash(c, "success", "The previous secret …"+tail+" was revoked: deliveries signed with it are refused from now on.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

// SecretRevokePrevious stops every replaced secret before its grace ends.
func (h *Handler) SecretRevokePrevious(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	if err := h.Store.RevokePreviousSecret(c.Request().Context(), ws.ID); err != nil {
		return fmt.Errorf("revoke previous secret: %w", err)
	}
	h.Workspaces.Invalidate()
	logger(c).Info("previous shared secret revoked", "workspace", ws.ID)
	h.flash(c, "success", "The previous shared secrets were revoked: only the current one verifies now.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

// SecretClear removes a workspace's secrets, once confirmed.
func (h *Handler) SecretClear(c echo.Context) error {
	f := newClearForm(c)
	ws, err := h.formWorkspace(c, f.WorkspaceID)
	if err != nil {
		return err
	}
	if ferr := f.Validate(); ferr != nil {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.Source.ClearError = ferr.Msg
		})
	}
	if err := h.Store.ClearSecret(c.Request().Context(), ws.ID); err != nil {
		return fmt.Errorf("clear secret: %w", err)
	}
	h.Workspaces.Invalidate()
	logger(c).Info("shared secret cleared", "workspace", ws.ID)
	h.flash(c, "success", "Shared secret cleared. Segment's deliveries to this workspace are refused with 503 (Segment retries) until a new secret is saved.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

// FirstElementSignaturesSave turns on or off, for one workspace, arrays
// signed over their first event only (Segment's Webhooks (Actions) batching).
func (h *Handler) FirstElementSignaturesSave(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	on := c.FormValue("enabled") == "yes"
	if err := h.Store.SetFirstElementSignatures(c.Request().Context(), ws.ID, on); err != nil {
		return fmt.Errorf("save element-0 signatures: %w", err)
	}
	h.Workspaces.Invalidate()
	admin, _ := h.admin(c)
	logger(c).Info("element-0 signatures", "workspace", ws.ID, "enabled", on, "admin", admin.Email)
	msg := "Batches signed over their first event only are refused (401)."
	if on {
		msg = "Batches signed over their first event only are accepted, each only while its first event is new."
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID)+"#segment-source")
}

// SegmentDeletesSave turns on or off, for one workspace, treating
// Segment's "delete" calls as erasures of their userId.
func (h *Handler) SegmentDeletesSave(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	on := c.FormValue("enabled") == "yes"
	if err := h.Store.SetSegmentDeletes(c.Request().Context(), ws.ID, on); err != nil {
		return fmt.Errorf("save segment deletes: %w", err)
	}
	h.Workspaces.Invalidate()
	admin, _ := h.admin(c)
	logger(c).Info("segment deletion requests", "workspace", ws.ID, "erase", on, "admin", admin.Email)
	msg := "Segment's delete calls are stored and forwarded like other events; they erase no one."
	if on {
		msg = "Segment's delete calls erase their user within seconds; the calls themselves are not stored."
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID)+"#segment-deletes-title")
}
