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

func writeKeysURL(ws uuid.UUID) string { return settingsURL(ws) + "#http-api-source" }

// onceWriteKey names the new write key kept for the page after the redirect.
const onceWriteKey = "writekey"

// WriteKeyCreate makes a write key and answers with post/redirect/get like
// every form: the key travels to the next settings page sealed (see
// keepOnce), is shown there once at the top of its section, and a reload
// shows nothing and creates nothing.
func (h *Handler) WriteKeyCreate(c echo.Context) error {
	f := newWriteKeyForm(c)
	ws, err := h.formWorkspace(c, f.WorkspaceID)
	if err != nil {
		return err
	}
	if ferr := f.Validate(); ferr != nil {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.HTTPAPI.Name, p.HTTPAPI.Kind, p.HTTPAPI.NameError = f.Name, f.Kind, ferr.Msg
		})
	}
	k, key, err := h.Store.CreateWriteKeyKind(c.Request().Context(), ws.ID, f.Name, f.Kind)
	if err != nil {
		return fmt.Errorf("create write key: %w", err)
	}
	admin, _ := h.admin(c)
	logger(c).Info("write key created", "workspace", ws.ID, "key_id", k.ID, "kind", k.Kind, "admin", admin.Email)
	if err := h.keepOnce(c, onceWriteKey, k.ID.String()+"\n"+key); err != nil {
		return fmt.Errorf("create write key: %w", err)
	}
	return c.Redirect(http.StatusSeeOther, writeKeysURL(ws.ID))
}

// newWriteKey takes the key just created for ws, if this is the page after
// its creation: it is shown once, then forgotten.
func (h *Handler) newWriteKey(c echo.Context, ws uuid.UUID, keys []templates.WriteKeyView) *templates.NewWriteKey {
	v, ok := h.takeOnce(c, onceWriteKey)
	if !ok {
		return nil
	}
	id, key, _ := strings.Cut(v, "\n")
	for _, k := range keys {
		if k.ID == id {
			// The key's text is in this answer: no cache may keep it.
			c.Response().Header().Set("Cache-Control", "no-store")
			return &templates.NewWriteKey{ID: id, Name: k.Name, Prefix: k.Prefix, Key: key}
		}
	}
	return nil // another workspace's key: its page has gone by
}

// WriteKeyRevoke stops a key for good; this instance refuses it from the next
// request on (other instances within their 5 s cache lifetime).
func (h *Handler) WriteKeyRevoke(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such write key.", Err: err}
	}
	if c.FormValue("confirm") != "yes" {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.HTTPAPI.RevokeID = id.String()
			p.HTTPAPI.RevokeError = "Tick the box to confirm: apps sending with this key are refused from now on."
		})
	}
	err = h.Store.RevokeWriteKey(c.Request().Context(), ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "This workspace has no such write key.", Err: err}
	}
	if err != nil {
		return fmt.Errorf("revoke write key: %w", err)
	}
	h.WriteKeys.Invalidate()
	admin, _ := h.admin(c)
	logger(c).Info("write key revoked", "workspace", ws.ID, "key_id", id, "admin", admin.Email)
	h.flash(c, "success", "Write key revoked: calls with it are refused from now on.")
	return c.Redirect(http.StatusSeeOther, writeKeysURL(ws.ID))
}

// WriteKeyKind makes a key a client or a server key. Events stored before
// keep the trust they came with, so profiles (and a rebuild) do not change;
// this instance applies the new kind from the next request on, others
// within their 5 s cache lifetime.
func (h *Handler) WriteKeyKind(c echo.Context) error {
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
	return c.Redirect(http.StatusSeeOther, writeKeysURL(ws.ID))
}

// writeKeyForm creates a write key.
type writeKeyForm struct {
	WorkspaceID uuid.UUID
	Name        string
	Kind        string // client (the default) or server
}

func newWriteKeyForm(c echo.Context) writeKeyForm {
	kind := c.FormValue("kind")
	if kind == "" {
		kind = store.WriteKeyClient
	}
	return writeKeyForm{WorkspaceID: parseWorkspaceID(c.FormValue("workspace_id")), Name: strings.TrimSpace(c.FormValue("name")), Kind: kind}
}

// Validate explains what is wrong, or returns nil.
func (f writeKeyForm) Validate() *formError {
	switch {
	case !store.ValidWriteKeyKind(f.Kind):
		return &formError{"kind", "Choose where the key lives: client or server."}
	case f.Name == "":
		return &formError{"name", "Name the key after what will use it (e.g. checkout-service), so you know which one to revoke later."}
	case !utf8.ValidString(f.Name):
		return &formError{"name", "The name must be text (valid UTF-8)."}
	case utf8.RuneCountInString(f.Name) > store.MaxWriteKeyName:
		return &formError{"name", fmt.Sprintf("The name is too long: at most %d characters.", store.MaxWriteKeyName)}
	case strings.IndexFunc(f.Name, unicode.IsControl) >= 0:
		return &formError{"name", "The name cannot contain line breaks or other control characters."}
	}
	return nil
}
