package dashboard

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// WorkspaceCreate adds a workspace and shows its settings.
func (h *Handler) WorkspaceCreate(c echo.Context) error {
	f := newWorkspaceForm(c)
	if ferr := f.Validate(); ferr != nil {
		cur, err := h.currentWorkspace(c)
		if err != nil {
			return err
		}
		return h.renderSettings(c, http.StatusUnprocessableEntity, cur, func(p *templates.SettingsProps) {
			p.NewWorkspace = templates.NewWorkspaceProps{Name: f.Name, Error: ferr.Msg}
		})
	}
	ws, err := h.Store.CreateWorkspace(c.Request().Context(), f.Name)
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	h.Workspaces.Invalidate()
	logger(c).Info("workspace created", "workspace", ws.ID, "name", ws.Name)
	h.flash(c, "success", fmt.Sprintf("Workspace “%s” created. Connect it to Segment with its own webhook URL and secret below.", ws.Name))
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

// formWorkspace loads the workspace a settings form names.
func (h *Handler) formWorkspace(c echo.Context, id uuid.UUID) (store.Workspace, error) {
	if id == uuid.Nil {
		return store.Workspace{}, apperr.New(apperr.Invalid, "This form does not name a valid workspace. Reload the page and try again.")
	}
	ws, err := h.Store.Workspace(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, &apperr.Error{Code: apperr.NotFound, Msg: "That workspace no longer exists.", Err: err}
	}
	if err != nil {
		return store.Workspace{}, fmt.Errorf("workspace %s: %w", id, err)
	}
	return ws, nil
}
