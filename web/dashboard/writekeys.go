package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
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
		v := templates.WriteKeyView{ID: k.ID.String(), Name: k.Name, Prefix: k.Prefix, Kind: k.Kind, CreatedAt: k.CreatedAt}
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
	Kind string // client (the default) or server
}

// Validate explains what is wrong, or returns nil.
func (f writeKeyForm) Validate() *formError {
	if !store.ValidWriteKeyKind(f.Kind) {
		return &formError{"kind", "Choose where the key lives: client or server."}
	}
	return validCredentialName(f.Name, "key", "checkout-service")
}

// writeKeys is the write keys' part of the credential forms (credentials.go).
var writeKeys = credKind[writeKeyForm]{
	noun: "write key", once: "writekey", anchor: "http-api-source",
	parse: func(c echo.Context) writeKeyForm {
		kind := c.FormValue("kind")
		if kind == "" {
			kind = store.WriteKeyClient
		}
		return writeKeyForm{Name: strings.TrimSpace(c.FormValue("name")), Kind: kind}
	},
	validate: writeKeyForm.Validate,
	refill: func(p *templates.SettingsProps, f writeKeyForm, ferr *formError) {
		p.HTTPAPI.Name, p.HTTPAPI.Kind, p.HTTPAPI.NameError = f.Name, f.Kind, ferr.Msg
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
		key, secret, err := h.Store.CreateWriteKeyKind(ctx, ws, f.Name, f.Kind)
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

// WriteKeySetKind is POST /dashboard/settings/writekeys/:id/kind: it makes
// a key a client or a server key. Events stored before keep the trust they
// came with, so profiles (and a rebuild) do not change; this instance
// applies the new kind from the next request on, others within their 5 s
// cache lifetime.
func (h *Handler) WriteKeySetKind(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such write key.", Err: err}
	}
	kind := c.FormValue("kind")
	if !store.ValidWriteKeyKind(kind) {
		return apperr.New(apperr.Invalid, "A write key is a client or a server key.")
	}
	err = h.Store.SetWriteKeyKind(c.Request().Context(), ws.ID, id, kind)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "This workspace has no such write key.", Err: err}
	}
	if err != nil {
		return fmt.Errorf("set write key kind: %w", err)
	}
	h.WriteKeys.Invalidate()
	admin, _ := h.admin(c)
	logger(c).Info("write key kind changed", "workspace", ws.ID, "key_id", id, "kind", kind, "admin", admin.Email)
	h.flash(c, "success", "The write key is now a "+kind+" key, for the events it sends from now on.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID)+"#http-api-source")
}
