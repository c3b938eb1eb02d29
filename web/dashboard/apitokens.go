package dashboard

import (
	"context"
	"strings"
	"time"

	"fmt"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// apiTokensProps is the API tokens section of ws's settings page, with the
// token just created when this is the page after its creation.
func (h *Handler) apiTokensProps(c echo.Context, ws store.Workspace) (templates.APITokensProps, error) {
	p := templates.APITokensProps{WorkspaceID: ws.ID.String()}
	toks, err := h.Store.APITokens(c.Request().Context(), ws.ID)
	if err != nil {
		return p, fmt.Errorf("API tokens: %w", err)
	}
	now := time.Now()
	for _, t := range toks {
		v := templates.APITokenView{ID: t.ID.String(), Name: t.Name, Prefix: t.Prefix, Scope: t.Scope, CreatedAt: t.CreatedAt,
			Expired: t.Expired(now)}
		if t.LastUsedAt != nil {
			v.LastUsedAt = *t.LastUsedAt
		}
		if t.RevokedAt != nil {
			v.RevokedAt = *t.RevokedAt
		}
		if t.ExpiresAt != nil {
			v.ExpiresAt = *t.ExpiresAt
		}
		p.Tokens = append(p.Tokens, v)
	}
	var found templates.APITokenView
	_, token, ok := h.takeNewCredential(c, apiTokens.once, func(id string) bool {
		for _, t := range p.Tokens {
			if t.ID == id {
				found = t
				return true
			}
		}
		return false
	})
	if ok {
		p.New = &templates.NewAPIToken{Name: found.Name, Scope: found.Scope, Token: token}
	}
	return p, nil
}

// apiTokenForm creates an API token.
type apiTokenForm struct {
	Name, Scope string
	Expires     string     // yyyy-mm-dd as typed; empty never expires
	ExpiresAt   *time.Time // Expires parsed by Validate's caller (parse)
}

// Validate explains what is wrong, or returns nil.
func (f apiTokenForm) Validate() *formError {
	if ferr := validCredentialName(f.Name, "token", "crm-sync"); ferr != nil {
		return ferr
	}
	switch {
	case f.Scope != store.ScopeRead && f.Scope != store.ScopeWrite:
		return &formError{"scope", "Choose read or write."}
	case f.Expires != "" && f.ExpiresAt == nil:
		return &formError{"expires", "Enter the last day the token works, as a date (yyyy-mm-dd)."}
	case f.ExpiresAt != nil && !f.ExpiresAt.After(time.Now()):
		return &formError{"expires", "The last day the token works must be today or later."}
	}
	return nil
}

// tokenExpiry is when a token whose last day is day (yyyy-mm-dd) stops: the
// end of that day, UTC. nil when day is not a date.
func tokenExpiry(day string) *time.Time {
	d, err := time.ParseInLocation("2006-01-02", day, time.UTC)
	if err != nil || d.Year() < 2000 || d.Year() > 9999 {
		return nil
	}
	e := d.AddDate(0, 0, 1)
	return &e
}

// apiTokens is the API tokens' part of the credential forms (credentials.go).
var apiTokens = credKind[apiTokenForm]{
	noun: "API token", once: "api_token", anchor: "api-tokens",
	parse: func(c echo.Context) apiTokenForm {
		f := apiTokenForm{Name: strings.TrimSpace(c.FormValue("name")), Scope: c.FormValue("scope"),
			Expires: strings.TrimSpace(c.FormValue("expires"))}
		if f.Expires != "" {
			f.ExpiresAt = tokenExpiry(f.Expires)
		}
		return f
	},
	validate: apiTokenForm.Validate,
	refill: func(p *templates.SettingsProps, f apiTokenForm, ferr *formError) {
		p.APITokens.Name, p.APITokens.Scope, p.APITokens.Expires = f.Name, f.Scope, f.Expires
		switch ferr.Field {
		case "scope":
			p.APITokens.ScopeError = ferr.Msg
		case "expires":
			p.APITokens.ExpiresError = ferr.Msg
		default:
			p.APITokens.NameError = ferr.Msg
		}
	},
	revokeUnconfirmed: "Tick the box to confirm: requests with this token are refused from now on.",
	revoked:           "API token revoked: requests with it are refused from now on.",
	setRevokeError: func(p *templates.SettingsProps, id, msg string) {
		p.APITokens.RevokeID, p.APITokens.RevokeError = id, msg
	},
}

// apiTokenKind binds apiTokens to this handler's store and cache.
func (h *Handler) apiTokenKind() credKind[apiTokenForm] {
	k := apiTokens
	k.create = func(ctx context.Context, ws uuid.UUID, f apiTokenForm) (uuid.UUID, string, error) {
		t, secret, err := h.Store.CreateAPITokenWith(ctx, ws, store.NewAPIToken{Name: f.Name, Scope: f.Scope, ExpiresAt: f.ExpiresAt})
		return t.ID, secret, err
	}
	k.revoke = h.Store.RevokeAPIToken
	if h.APITokens != nil {
		k.invalidate = h.APITokens.Invalidate
	}
	return k
}

// APITokenCreate is POST /dashboard/settings/api-tokens: it makes a token
// and redirects to the settings page, which shows it once.
func (h *Handler) APITokenCreate(c echo.Context) error {
	return createCredential(h, c, h.apiTokenKind())
}

// APITokenRevoke is POST /dashboard/settings/api-tokens/:id/revoke; this
// instance refuses the token from the next request on, others within their
// 5 s cache lifetime.
func (h *Handler) APITokenRevoke(c echo.Context) error {
	return revokeCredential(h, c, h.apiTokenKind())
}
