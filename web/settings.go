package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// webhookPath is where Segment posts.
const webhookPath = "/api/public/webhooks/segment"

// webhookURL is what the admin pastes into Segment for ws.
func (s *Server) webhookURL(ws store.Workspace) string {
	u := s.deps.Config.BaseURL + webhookPath
	if !ws.IsDefault {
		u += "?workspaceId=" + ws.ID.String()
	}
	return u
}

func settingsURL(ws uuid.UUID) string {
	return "/dashboard/settings?ws=" + url.QueryEscape(ws.String())
}

func (s *Server) settingsShow(c echo.Context) error {
	ws, err := s.currentWorkspace(c)
	if err != nil {
		return err
	}
	return s.renderSettings(c, http.StatusOK, ws, nil)
}

// renderSettings renders the page for ws; edit adds what a refused form
// needs shown (its error next to the field, the name typed so far).
func (s *Server) renderSettings(c echo.Context, status int, ws store.Workspace, edit func(*templates.SettingsProps)) error {
	c.Set(ctxWorkspace, ws)
	lp, err := s.layoutProps(c, "Settings", "settings")
	if err != nil {
		return err
	}
	p := templates.SettingsProps{
		Layout:    lp,
		Workspace: templates.WorkspaceView{ID: ws.ID.String(), Name: ws.Name, IsDefault: ws.IsDefault, Count: len(lp.Workspaces)},
		Source: templates.SourceProps{
			WorkspaceID: ws.ID.String(),
			WebhookURL:  s.webhookURL(ws),
			Secret:      secretView(ws.Secret, time.Now()),
			Status:      s.connectionStatus(c.Request().Context(), ws.ID),
		},
	}
	if p.HTTPAPI, err = s.httpAPIProps(c.Request().Context(), ws); err != nil {
		return err
	}
	if edit != nil {
		edit(&p)
	}
	return render(c, status, templates.Settings(p))
}

// secretView is all a page learns about a secret: never more than its last 4.
func secretView(sec store.SecretInfo, now time.Time) templates.SecretView {
	v := templates.SecretView{Set: sec.IsSet(), SetBy: sec.SetBy}
	if v.Set {
		v.Last4 = sec.Last4()
	}
	if sec.SetAt != nil {
		v.SetAt = *sec.SetAt
	}
	if sec.Previous != "" && sec.PreviousExpiresAt != nil && now.Before(*sec.PreviousExpiresAt) {
		v.PreviousActive, v.PreviousExpiresAt = true, *sec.PreviousExpiresAt
	}
	if v.SetBy == "" && v.Set {
		v.SetBy = "unknown"
	}
	return v
}

// formWorkspace loads the workspace a settings form names.
func (s *Server) formWorkspace(c echo.Context, id uuid.UUID) (store.Workspace, error) {
	if id == uuid.Nil {
		return store.Workspace{}, errorf(http.StatusBadRequest, "This form does not name a valid workspace. Reload the page and try again.")
	}
	ws, err := s.deps.Store.Workspace(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, errorf(http.StatusNotFound, "That workspace no longer exists.")
	}
	return ws, err
}

func (s *Server) secretSave(c echo.Context) error {
	f := newSecretForm(c)
	ws, err := s.formWorkspace(c, f.WorkspaceID)
	if err != nil {
		return err
	}
	if ferr := f.Validate(); ferr != nil {
		return s.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.Source.SecretError = ferr.Msg
		})
	}
	admin, _ := s.admin(c)
	grace := s.deps.Config.SecretGrace
	if err := s.deps.Store.SetSecret(c.Request().Context(), ws.ID, f.Secret, admin.Email, grace); err != nil {
		return fmt.Errorf("save secret: %w", err)
	}
	s.InvalidateWorkspace()
	s.logger(c).Info("shared secret saved", "workspace", ws.ID, "admin", admin.Email)
	msg := "Shared secret saved. Paste the same secret into Segment's Webhooks destination."
	if ws.Secret.IsSet() && ws.Secret.Current != f.Secret {
		msg = fmt.Sprintf("New shared secret saved. The previous one keeps working until %s, so update Segment before then.",
			templates.FormatTime(time.Now().Add(grace)))
	}
	s.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

func (s *Server) secretRevokePrevious(c echo.Context) error {
	ws, err := s.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	if err := s.deps.Store.RevokePreviousSecret(c.Request().Context(), ws.ID); err != nil {
		return fmt.Errorf("revoke previous secret: %w", err)
	}
	s.InvalidateWorkspace()
	s.logger(c).Info("previous shared secret revoked", "workspace", ws.ID)
	s.flash(c, "success", "The previous shared secret was revoked: only the current one verifies now.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

func (s *Server) secretClear(c echo.Context) error {
	f := newClearForm(c)
	ws, err := s.formWorkspace(c, f.WorkspaceID)
	if err != nil {
		return err
	}
	if ferr := f.Validate(); ferr != nil {
		return s.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.Source.ClearError = ferr.Msg
		})
	}
	if err := s.deps.Store.ClearSecret(c.Request().Context(), ws.ID); err != nil {
		return fmt.Errorf("clear secret: %w", err)
	}
	s.InvalidateWorkspace()
	s.logger(c).Info("shared secret cleared", "workspace", ws.ID)
	s.flash(c, "success", "Shared secret cleared. Segment's deliveries to this workspace are refused with 503 (Segment retries) until a new secret is saved.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

func (s *Server) workspaceCreate(c echo.Context) error {
	f := newWorkspaceForm(c)
	if ferr := f.Validate(); ferr != nil {
		cur, err := s.currentWorkspace(c)
		if err != nil {
			return err
		}
		return s.renderSettings(c, http.StatusUnprocessableEntity, cur, func(p *templates.SettingsProps) {
			p.NewWorkspace = templates.NewWorkspaceProps{Name: f.Name, Error: ferr.Msg}
		})
	}
	ws, err := s.deps.Store.CreateWorkspace(c.Request().Context(), f.Name)
	if err != nil {
		return fmt.Errorf("create workspace: %w", err)
	}
	s.InvalidateWorkspace()
	s.logger(c).Info("workspace created", "workspace", ws.ID, "name", ws.Name)
	s.flash(c, "success", fmt.Sprintf("Workspace “%s” created. Connect it to Segment with its own webhook URL and secret below.", ws.Name))
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}
