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

// credKind is what differs between the settings page's two kinds of
// credential, write keys and API tokens; creating and revoking either goes
// through createCredential and revokeCredential. F is the kind's form: a
// new field is a field of F, read in parse, checked in validate, passed on
// in create and put back in refill.
type credKind[F any] struct {
	noun     string // "write key", "API token": log lines and messages
	once     string // keepOnce name of the just-created secret
	anchor   string // the settings section, for the redirect
	parse    func(c echo.Context) F
	validate func(F) *formError
	create   func(ctx context.Context, ws uuid.UUID, f F) (id uuid.UUID, secret string, err error)
	// refill puts a refused form back on the page with its error.
	refill func(p *templates.SettingsProps, f F, ferr *formError)
	revoke func(ctx context.Context, ws, id uuid.UUID) error
	// invalidate makes this instance refuse a revoked credential at once.
	invalidate func()
	// revokeUnconfirmed and revoked are the revoke form's messages.
	revokeUnconfirmed, revoked string
	setRevokeError             func(p *templates.SettingsProps, id, msg string)
}

func (k credKind[F]) url(ws uuid.UUID) string { return settingsURL(ws) + "#" + k.anchor }

// createCredential makes a credential and answers with post/redirect/get
// like every form: the secret travels to the next settings page sealed (see
// keepOnce), is shown there once, and a reload shows nothing and creates
// nothing.
func createCredential[F any](h *Handler, c echo.Context, k credKind[F]) error {
	f := k.parse(c)
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	if ferr := k.validate(f); ferr != nil {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) { k.refill(p, f, ferr) })
	}
	id, secret, err := k.create(c.Request().Context(), ws.ID, f)
	if err != nil {
		return fmt.Errorf("create %s: %w", k.noun, err)
	}
	if err := h.keepOnce(c, k.once, id.String()+"\n"+secret); err != nil {
		// It exists but cannot be shown: revoke it rather than leave one
		// nobody has.
		_ = k.revoke(context.WithoutCancel(c.Request().Context()), ws.ID, id)
		return fmt.Errorf("hand over the new %s: %w", k.noun, err)
	}
	admin, _ := h.admin(c)
	logger(c).Info(k.noun+" created", "workspace", ws.ID, "id", id, "admin", admin.Email)
	return c.Redirect(http.StatusSeeOther, k.url(ws.ID))
}

// takeNewCredential is the secret of the credential just created, when
// this is the page after its creation and the credential is among ids (the
// workspace shown): shown once, then forgotten.
func (h *Handler) takeNewCredential(c echo.Context, once string, ids func(id string) bool) (id, secret string, ok bool) {
	if c.Request().Method != http.MethodGet {
		return "", "", false
	}
	v, ok := h.takeOnce(c, once)
	if !ok {
		return "", "", false
	}
	id, secret, _ = strings.Cut(v, "\n")
	if !ids(id) {
		return "", "", false // another workspace's: its page has gone by
	}
	// The secret is in this answer: no cache may keep it.
	c.Response().Header().Set("Cache-Control", "no-store")
	return id, secret, true
}

// revokeCredential stops a credential for good once confirmed; this
// instance refuses it from the next request on (others within their 5 s
// cache lifetime).
func revokeCredential[F any](h *Handler, c echo.Context, k credKind[F]) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such " + k.noun + ".", Err: err}
	}
	if c.FormValue("confirm") != "yes" {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			k.setRevokeError(p, id.String(), k.revokeUnconfirmed)
		})
	}
	err = k.revoke(c.Request().Context(), ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "This workspace has no such " + k.noun + ".", Err: err}
	}
	if err != nil {
		return fmt.Errorf("revoke %s: %w", k.noun, err)
	}
	if k.invalidate != nil {
		k.invalidate()
	}
	admin, _ := h.admin(c)
	logger(c).Info(k.noun+" revoked", "workspace", ws.ID, "id", id, "admin", admin.Email)
	h.flash(c, "success", k.revoked)
	return c.Redirect(http.StatusSeeOther, k.url(ws.ID))
}

// validCredentialName explains what is wrong with a credential's name, or
// returns nil; example is what a good one looks like.
func validCredentialName(name, noun, example string) *formError {
	switch {
	case name == "":
		return &formError{"name", "Name the " + noun + " after what will use it (e.g. " + example + "), so you know which one to revoke later."}
	case !utf8.ValidString(name):
		return &formError{"name", "The name must be text (valid UTF-8)."}
	case utf8.RuneCountInString(name) > store.MaxWriteKeyName:
		return &formError{"name", fmt.Sprintf("The name is too long: at most %d characters.", store.MaxWriteKeyName)}
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return &formError{"name", "The name cannot contain line breaks or other control characters."}
	}
	return nil
}
