package api

import (
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// templateBody is what POST and PUT /api/v1/templates take.
type templateBody struct {
	Key           string `json:"key"`
	Subject       string `json:"subject"`
	HTML          string `json:"html"`
	Text          string `json:"text"`
	Transactional bool   `json:"transactional"`
}

const maxTemplateBody = 2*email.MaxBody + 64<<10

// check refuses a template that could not be sent: too long, no body, a
// Liquid syntax error (with its part and line).
func (b templateBody) check() error {
	if err := checkKey("key", b.Key); err != nil {
		return err
	}
	if b.Key == "new" { // /dashboard/templates/new is the form
		return apperr.Errorf(apperr.Unprocessable, `key: "new" is reserved: /dashboard/templates/new is the page that makes a template`)
	}
	switch {
	case b.Subject == "" || len(b.Subject) > email.MaxSubject:
		return apperr.Errorf(apperr.Unprocessable, "subject: 1 to %d bytes", email.MaxSubject)
	case b.HTML == "" && b.Text == "":
		return apperr.New(apperr.Unprocessable, "html: a template needs html or text")
	case len(b.HTML) > email.MaxBody || len(b.Text) > email.MaxBody:
		return apperr.Errorf(apperr.Unprocessable, "html, text: at most %d bytes each", email.MaxBody)
	case !utf8.ValidString(b.Subject + b.HTML + b.Text):
		return apperr.New(apperr.Unprocessable, "subject, html, text: must be UTF-8")
	}
	if err := email.Check(email.Template{Subject: b.Subject, HTML: b.HTML, Text: b.Text}); err != nil {
		var se *email.SyntaxError
		if errors.As(err, &se) {
			return (&apperr.Error{Code: apperr.Unprocessable, Msg: se.Error(), Err: err}).With("field", se.Field).With("line", se.Line)
		}
		return err
	}
	return nil
}

func (b templateBody) template() store.EmailTemplate {
	return store.EmailTemplate{Key: b.Key, Subject: b.Subject, HTML: b.HTML, Text: b.Text, Transactional: b.Transactional}
}

func templateNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "no template has this key", Err: err}
	}
	return err
}

// TemplatesList is GET /api/v1/templates.
func (h *Handler) TemplatesList(c echo.Context) error {
	ts, err := h.Store.EmailTemplates(c.Request().Context(), tokenOf(c).WorkspaceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"templates": ts})
}

// TemplateCreate is POST /api/v1/templates.
func (h *Handler) TemplateCreate(c echo.Context) error {
	var b templateBody
	if err := readJSON(c, maxTemplateBody, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	t, err := h.Store.CreateEmailTemplate(c.Request().Context(), tokenOf(c).WorkspaceID, b.template())
	if errors.Is(err, store.ErrConflict) {
		return &apperr.Error{Code: apperr.Conflict, Msg: "a template with this key exists: PUT /api/v1/templates/{key} changes it", Err: err}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

// TemplateShow is GET /api/v1/templates/:key.
func (h *Handler) TemplateShow(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	t, err := h.Store.EmailTemplate(c.Request().Context(), tokenOf(c).WorkspaceID, key)
	if err != nil {
		return templateNotFound(err)
	}
	return c.JSON(http.StatusOK, t)
}

// TemplateUpdate is PUT /api/v1/templates/:key (the body's key, when
// given, must be the path's).
func (h *Handler) TemplateUpdate(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	var b templateBody
	if err := readJSON(c, maxTemplateBody, &b); err != nil {
		return err
	}
	if b.Key != "" && b.Key != key {
		return apperr.New(apperr.Unprocessable, "key: a template's key cannot change")
	}
	b.Key = key
	if err := b.check(); err != nil {
		return err
	}
	t, err := h.Store.UpdateEmailTemplate(c.Request().Context(), tokenOf(c).WorkspaceID, b.template())
	if err != nil {
		return templateNotFound(err)
	}
	return c.JSON(http.StatusOK, t)
}

// TemplateDelete is DELETE /api/v1/templates/:key.
func (h *Handler) TemplateDelete(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteEmailTemplate(c.Request().Context(), tokenOf(c).WorkspaceID, key); err != nil {
		return templateNotFound(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// TemplateRender is POST /api/v1/templates/:key/render with {"userId",
// "event"?, "group"?}: the rendered subject, html and text, nothing sent.
func (h *Handler) TemplateRender(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	var b struct {
		UserID string         `json:"userId"`
		Event  map[string]any `json:"event"`
		Group  string         `json:"group"`
	}
	if err := readJSON(c, 64<<10, &b); err != nil {
		return err
	}
	if b.UserID == "" || !store.ValidSearchText(b.UserID) {
		return invalid("userId: required")
	}
	t, err := h.Store.EmailTemplate(ctx, ws, key)
	if err != nil {
		return templateNotFound(err)
	}
	v, err := profiles.Find(ctx, h.Store, ws, store.IdentityUser, b.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.NotFound, "no profile has this userId")
	}
	if err != nil {
		return fmt.Errorf("profile by userId: %w", err)
	}
	unsub := ""
	if h.Email != nil && !t.Transactional {
		if unsub, err = h.Email.UnsubscribeURL(ctx, ws, b.UserID, b.Group); err != nil {
			return err
		}
	}
	out, err := email.Render(email.Template{Subject: t.Subject, HTML: t.HTML, Text: t.Text},
		email.Vars(b.UserID, v.Traits, b.Event, "", unsub))
	if err != nil {
		return &apperr.Error{Code: apperr.Unprocessable, Msg: err.Error(), Err: err}
	}
	return c.JSON(http.StatusOK, out)
}
