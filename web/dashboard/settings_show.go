package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// webhookURL is what the admin pastes into Segment for ws.
func (h *Handler) webhookURL(ws store.Workspace) string {
	u := h.BaseURL + webhookPath
	if !ws.IsDefault {
		u += "?workspaceId=" + ws.ID.String()
	}
	return u
}

func settingsURL(ws uuid.UUID) string {
	return "/dashboard/settings?ws=" + url.QueryEscape(ws.String())
}

// SettingsShow is GET /dashboard/settings.
func (h *Handler) SettingsShow(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	return h.renderSettings(c, http.StatusOK, ws, nil)
}

// renderSettings renders the page for ws; edit adds what a refused form
// needs shown (its error next to the field, the name typed so far).
func (h *Handler) renderSettings(c echo.Context, status int, ws store.Workspace, edit func(*templates.SettingsProps)) error {
	c.Set(ctxWorkspace, ws)
	lp, err := h.layoutProps(c, "Settings", "settings")
	if err != nil {
		return err
	}
	p := templates.SettingsProps{
		Layout:    lp,
		Workspace: templates.WorkspaceView{ID: ws.ID.String(), Name: ws.Name, IsDefault: ws.IsDefault, Count: len(lp.Workspaces)},
		Source: templates.SourceProps{
			WorkspaceID: ws.ID.String(),
			WebhookURL:  h.webhookURL(ws),
			Secret:      secretView(ws.Secret, time.Now()),
			Status:      h.connectionStatus(c.Request().Context(), ws.ID),

			FirstElementSignatures: ws.FirstElementSignatures,
			FirstElementMaxEvents:  h.FirstElementMaxEvents,
			SegmentDeletes:         ws.SegmentDeletes,
		},
	}
	if p.HTTPAPI, err = h.httpAPIProps(c.Request().Context(), ws); err != nil {
		return err
	}
	if p.APITokens, err = h.apiTokensProps(c, ws); err != nil {
		return err
	}
	if p.Email, err = h.emailProps(c, ws); err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet {
		p.HTTPAPI.NewKey = h.newWriteKey(c, p.HTTPAPI.Keys)
	}
	if why := config.SegmentCannotReach(h.BaseURL); why != "" {
		p.Source.Unreachable, p.Source.ExposeDocsURL = why, config.ExposeDocsPath
	}
	if edit != nil {
		edit(&p)
	}
	return render.Page(c, status, templates.Settings(p))
}

// secretView is all a page learns about the secrets: of each, never more
// than its last 4 characters and never more than a quarter of it.
func secretView(sec store.SecretInfo, now time.Time) templates.SecretView {
	v := templates.SecretView{Set: sec.IsSet(), SetBy: sec.SetBy, Max: store.MaxSecrets}
	if v.Set {
		v.Last4 = store.SecretTail(sec.Current)
	}
	if sec.SetAt != nil {
		v.SetAt = *sec.SetAt
	}
	for _, p := range sec.PreviousSecrets {
		if p.Secret == "" || !now.Before(p.ExpiresAt) {
			continue
		}
		v.Previous = append(v.Previous, templates.PreviousSecretView{ID: strconv.FormatInt(p.ID, 10),
			Tail: store.SecretTail(p.Secret), SetAt: p.SetAt, ExpiresAt: p.ExpiresAt})
	}
	if v.SetBy == "" && v.Set {
		v.SetBy = "unknown"
	}
	return v
}
