package dashboard

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// httpAPIProps is the HTTP Tracking API section of ws's settings page.
func (h *Handler) httpAPIProps(ctx context.Context, ws store.Workspace) (templates.HTTPAPIProps, error) {
	keys, err := h.Store.WriteKeys(ctx, ws.ID)
	if err != nil {
		return templates.HTTPAPIProps{}, fmt.Errorf("write keys: %w", err)
	}
	p := templates.HTTPAPIProps{WorkspaceID: ws.ID.String(), BaseURL: strings.TrimRight(h.BaseURL, "/")}
	for _, k := range keys {
		v := templates.WriteKeyView{ID: k.ID.String(), Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt}
		if k.LastUsedAt != nil {
			v.LastUsedAt = *k.LastUsedAt
		}
		if k.RevokedAt != nil {
			v.RevokedAt = *k.RevokedAt
		}
		p.Keys = append(p.Keys, v)
	}
	return p, nil
}

// newWriteKey takes the key just created for ws, if this is the page after
// its creation: it is shown once, then forgotten.
func (h *Handler) newWriteKey(c echo.Context, keys []templates.WriteKeyView) *templates.NewWriteKey {
	var found templates.WriteKeyView
	id, key, ok := h.takeNewCredential(c, writeKeys.once, func(id string) bool {
		for _, k := range keys {
			if k.ID == id {
				found = k
				return true
			}
		}
		return false
	})
	if !ok {
		return nil
	}
	return &templates.NewWriteKey{ID: id, Name: found.Name, Prefix: found.Prefix, Key: key}
}

// writeKeyForm creates a write key.
type writeKeyForm struct {
	Name string
}

// Validate explains what is wrong, or returns nil.
func (f writeKeyForm) Validate() *formError {
	return validCredentialName(f.Name, "key", "checkout-service")
}

// writeKeys is the write keys' part of the credential forms (credentials.go).
var writeKeys = credKind[writeKeyForm]{
	noun: "write key", once: "writekey", anchor: "http-api-source",
	parse: func(c echo.Context) writeKeyForm {
		return writeKeyForm{Name: strings.TrimSpace(c.FormValue("name"))}
	},
	validate: writeKeyForm.Validate,
	refill: func(p *templates.SettingsProps, f writeKeyForm, ferr *formError) {
		p.HTTPAPI.Name, p.HTTPAPI.NameError = f.Name, ferr.Msg
	},
	revokeUnconfirmed: "Tick the box to confirm: apps sending with this key are refused from now on.",
	revoked:           "Write key revoked: calls with it are refused from now on.",
	setRevokeError: func(p *templates.SettingsProps, id, msg string) {
		p.HTTPAPI.RevokeID, p.HTTPAPI.RevokeError = id, msg
	},
}

// writeKeyKind binds writeKeys to this handler's store and cache.
func (h *Handler) writeKeyKind() credKind[writeKeyForm] {
	k := writeKeys
	k.create = func(ctx context.Context, ws uuid.UUID, f writeKeyForm) (uuid.UUID, string, error) {
		key, secret, err := h.Store.CreateWriteKey(ctx, ws, f.Name)
		return key.ID, secret, err
	}
	k.revoke = h.Store.RevokeWriteKey
	k.invalidate = h.WriteKeys.Invalidate
	return k
}

// WriteKeyCreate is POST /dashboard/settings/writekeys.
func (h *Handler) WriteKeyCreate(c echo.Context) error {
	return createCredential(h, c, h.writeKeyKind())
}

// WriteKeyRevoke is POST /dashboard/settings/writekeys/:id/revoke.
func (h *Handler) WriteKeyRevoke(c echo.Context) error {
	return revokeCredential(h, c, h.writeKeyKind())
}
