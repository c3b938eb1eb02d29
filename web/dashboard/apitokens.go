package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// onceAPIToken names a just-created API token kept for the page the form
// redirects to (keepOnce: sealed in the session, its key in a cookie).
const onceAPIToken = "api_token"

func apiTokensURL(ws uuid.UUID) string { return settingsURL(ws) + "#api-tokens" }

// apiTokensProps is the API tokens section of ws's settings page, with the
// token just created when this is the page after its creation (shown once:
// takeOnce forgets it, so a reload shows the list only).
func (h *Handler) apiTokensProps(c echo.Context, ws store.Workspace) (templates.APITokensProps, error) {
	p := templates.APITokensProps{WorkspaceID: ws.ID.String()}
	toks, err := h.Store.APITokens(c.Request().Context(), ws.ID)
	if err != nil {
		return p, fmt.Errorf("API tokens: %w", err)
	}
	for _, t := range toks {
		v := templates.APITokenView{ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, Scope: t.Scope, CreatedAt: t.CreatedAt}
		if t.LastUsedAt != nil {
			v.LastUsedAt = *t.LastUsedAt
		}
		if t.RevokedAt != nil {
			v.RevokedAt = *t.RevokedAt
		}
		p.Tokens = append(p.Tokens, v)
	}
	if c.Request().Method == http.MethodGet {
		if v, ok := h.takeOnce(c, onceAPIToken); ok {
			id, token, _ := strings.Cut(v, "\n")
			for _, t := range p.Tokens {
				if t.ID == id { // another workspace's token: its page has gone by
					p.New = &templates.NewAPIToken{Name: t.Name, Scope: t.Scope, Token: token}
					// The token's text is in this answer: no cache may keep it.
					c.Response().Header().Set("Cache-Control", "no-store")
				}
			}
		}
	}
	return p, nil
}

// APITokenCreate is POST /dashboard/settings/api-tokens: it makes a token
// and redirects to the settings page, which shows it once.
func (h *Handler) APITokenCreate(c echo.Context) error {
	f := apiTokenForm{Name: strings.TrimSpace(c.FormValue("name")), Scope: c.FormValue("scope")}
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	if ferr := f.Validate(); ferr != nil {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.APITokens.Name, p.APITokens.Scope = f.Name, f.Scope
			if ferr.Field == "scope" {
				p.APITokens.ScopeError = ferr.Msg
			} else {
				p.APITokens.NameError = ferr.Msg
			}
		})
	}
	t, token, err := h.Store.CreateAPIToken(c.Request().Context(), ws.ID, f.Name, f.Scope)
	if err != nil {
		return fmt.Errorf("create API token: %w", err)
	}
	if err := h.keepOnce(c, onceAPIToken, t.ID.String()+"\n"+token); err != nil {
		// The token exists but cannot be shown: revoke it rather than leave
		// one nobody has.
		_ = h.Store.RevokeAPIToken(context.WithoutCancel(c.Request().Context()), ws.ID, t.ID)
		return fmt.Errorf("hand over the new API token: %w", err)
	}
	admin, _ := h.admin(c)
	logger(c).Info("API token created", "workspace", ws.ID, "token_id", t.ID, "scope", t.Scope, "admin", admin.Email)
	return c.Redirect(http.StatusSeeOther, apiTokensURL(ws.ID))
}

// APITokenRevoke is POST /dashboard/settings/api-tokens/:id/revoke; the
// API refuses the token from the next request on, on every instance (tokens
// are looked up per request).
func (h *Handler) APITokenRevoke(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such API token.", Err: err}
	}
	if c.FormValue("confirm") != "yes" {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.APITokens.RevokeID = id.String()
			p.APITokens.RevokeError = "Tick the box to confirm: requests with this token are refused from now on."
		})
	}
	err = h.Store.RevokeAPIToken(c.Request().Context(), ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "This workspace has no such API token.", Err: err}
	}
	if err != nil {
		return fmt.Errorf("revoke API token: %w", err)
	}
	admin, _ := h.admin(c)
	logger(c).Info("API token revoked", "workspace", ws.ID, "token_id", id, "admin", admin.Email)
	h.flash(c, "success", "API token revoked: requests with it are refused from now on.")
	return c.Redirect(http.StatusSeeOther, apiTokensURL(ws.ID))
}

// apiTokenForm creates an API token.
type apiTokenForm struct {
	Name, Scope string
}

// Validate explains what is wrong, or returns nil.
func (f apiTokenForm) Validate() *formError {
	switch {
	case f.Name == "":
		return &formError{"name", "Name the token after what will use it (e.g. crm-sync), so you know which one to revoke later."}
	case !utf8.ValidString(f.Name):
		return &formError{"name", "The name must be text (valid UTF-8)."}
	case utf8.RuneCountInString(f.Name) > store.MaxWriteKeyName:
		return &formError{"name", fmt.Sprintf("The name is too long: at most %d characters.", store.MaxWriteKeyName)}
	case strings.IndexFunc(f.Name, unicode.IsControl) >= 0:
		return &formError{"name", "The name cannot contain line breaks or other control characters."}
	case f.Scope != store.ScopeRead && f.Scope != store.ScopeWrite:
		return &formError{"scope", "Choose read or write."}
	}
	return nil
}
