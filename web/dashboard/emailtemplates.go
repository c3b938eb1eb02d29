package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/pathparam"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// templateKeyPattern is the API's key rule (web/api checkKey).
var templateKeyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

var errNoTemplate = apperr.New(apperr.NotFound, "No template has this key.")

// TemplatesList is GET /dashboard/templates, with ?preview=KEY&userId=U a
// preview of that template rendered for that user (nothing is sent).
func (h *Handler) TemplatesList(c echo.Context) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	lp, err := h.layoutProps(c, "Templates", "templates")
	if err != nil {
		return err
	}
	ts, err := h.Store.EmailTemplates(ctx, ws.ID)
	if err != nil {
		return err
	}
	p := templates.EmailTemplatesProps{Layout: lp}
	for _, t := range ts {
		p.Templates = append(p.Templates, templates.EmailTemplateRow{Key: t.Key, Subject: t.Subject, Transactional: t.Transactional})
	}
	key, user := c.QueryParam("preview"), strings.TrimSpace(c.QueryParam("userId"))
	if key != "" && user != "" {
		p.Preview = h.preview(c, key, user)
	}
	return render.Page(c, http.StatusOK, templates.EmailTemplates(p))
}

// preview renders template key for the user with that userId, as a send
// would (email.Render, the user's traits, an unsubscribe URL).
func (h *Handler) preview(c echo.Context, key, user string) templates.TemplatePreview {
	out := templates.TemplatePreview{Key: key, UserID: user}
	if !store.ValidSearchText(user) || !store.ValidSearchText(key) {
		out.Error = "The userId and the key are at most 1024 bytes of UTF-8."
		return out
	}
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	t, err := h.Store.EmailTemplate(ctx, ws.ID, key)
	if err != nil {
		out.Error = "No such template."
		return out
	}
	v, err := profiles.Find(ctx, h.Store, ws.ID, store.IdentityUser, user)
	if errors.Is(err, store.ErrNotFound) {
		out.Error = "No profile has the userId " + user + "."
		return out
	}
	if err != nil {
		out.Error = "The profile could not be read: " + err.Error()
		return out
	}
	unsub := ""
	if h.Email != nil && !t.Transactional {
		unsub, _ = h.Email.UnsubscribeURL(ctx, ws.ID, user, "preview")
	}
	r, err := email.Render(email.Template{Subject: t.Subject, HTML: t.HTML, Text: t.Text}, email.Vars(user, v.Traits, nil, "", unsub))
	if err != nil {
		out.Error = err.Error()
		return out
	}
	out.Subject, out.HTML, out.Text = r.Subject, r.HTML, r.Text
	return out
}

// TemplateNew is GET /dashboard/templates/new.
func (h *Handler) TemplateNew(c echo.Context) error {
	return h.renderTemplateForm(c, http.StatusOK, templates.TemplateFormProps{New: true,
		Template: templates.EmailTemplateForm{Subject: "Welcome, {{ user.traits.name | default: \"there\" }}",
			HTML: "<p>Hi {{ user.traits.name | default: \"there\" }},</p>\n<p>Thanks for signing up.</p>\n<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>"}})
}

// TemplateShow is GET /dashboard/templates/:key: the template's form, and
// with ?userId=U its preview for that user.
func (h *Handler) TemplateShow(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	key, err := pathparam.Get(c, "key")
	if err != nil {
		return errNoTemplate
	}
	t, err := h.Store.EmailTemplate(c.Request().Context(), ws.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return errNoTemplate
	}
	if err != nil {
		return err
	}
	p := templates.TemplateFormProps{Template: templates.EmailTemplateForm{Key: t.Key, Subject: t.Subject, HTML: t.HTML, Text: t.Text,
		Transactional: t.Transactional}}
	if user := strings.TrimSpace(c.QueryParam("userId")); user != "" {
		p.Preview = h.preview(c, key, user)
	}
	return h.renderTemplateForm(c, http.StatusOK, p)
}

func (h *Handler) renderTemplateForm(c echo.Context, status int, p templates.TemplateFormProps) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	title := "New template"
	if !p.New {
		title = "Template " + p.Template.Key
	}
	if p.Layout, err = h.layoutProps(c, title, "templates"); err != nil {
		return err
	}
	p.WorkspaceID = ws.ID.String()
	return render.Page(c, status, templates.TemplateForm(p))
}

// checkTemplate refuses what the API refuses: a bad key, no subject or
// body, over the sizes, not UTF-8, a Liquid syntax error (with its part
// and line).
func checkTemplate(t templates.EmailTemplateForm) *templates.FormFault {
	switch {
	case !templateKeyPattern.MatchString(t.Key):
		return &templates.FormFault{Field: "key", Msg: "1 to 64 letters, digits, _ . or -, starting with a letter or digit"}
	case t.Key == "new":
		return &templates.FormFault{Field: "key", Msg: `"new" is reserved: /dashboard/templates/new is this form`}
	case t.Subject == "" || len(t.Subject) > email.MaxSubject:
		return &templates.FormFault{Field: "subject", Msg: fmt.Sprintf("1 to %d bytes", email.MaxSubject)}
	case t.HTML == "" && t.Text == "":
		return &templates.FormFault{Field: "html", Msg: "a template needs an HTML or a text part"}
	case len(t.HTML) > email.MaxBody || len(t.Text) > email.MaxBody:
		return &templates.FormFault{Field: "html", Msg: fmt.Sprintf("at most %d bytes each", email.MaxBody)}
	case !utf8.ValidString(t.Subject + t.HTML + t.Text):
		return &templates.FormFault{Field: "subject", Msg: "must be UTF-8"}
	}
	err := email.Check(email.Template{Subject: t.Subject, HTML: t.HTML, Text: t.Text})
	var se *email.SyntaxError
	if errors.As(err, &se) {
		return &templates.FormFault{Field: se.Field, Line: se.Line, Msg: "Liquid syntax error: " + se.Msg}
	}
	if err != nil {
		return &templates.FormFault{Field: "html", Msg: err.Error()}
	}
	return nil
}

// TemplateCreate is POST /dashboard/templates.
func (h *Handler) TemplateCreate(c echo.Context) error { return h.saveTemplate(c, "") }

// TemplateUpdate is POST /dashboard/templates/:key.
func (h *Handler) TemplateUpdate(c echo.Context) error { return h.saveTemplate(c, c.Param("key")) }

func (h *Handler) saveTemplate(c echo.Context, key string) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	// Browsers send CRLF line ends in a textarea; templates keep LF.
	nl := strings.NewReplacer("\r\n", "\n")
	t := templates.EmailTemplateForm{Key: strings.TrimSpace(c.FormValue("key")), Subject: c.FormValue("subject"),
		HTML: nl.Replace(c.FormValue("html")), Text: nl.Replace(c.FormValue("text")), Transactional: c.FormValue("transactional") == "true"}
	if key != "" {
		t.Key = key
	}
	if f := checkTemplate(t); f != nil {
		return h.renderTemplateForm(c, http.StatusUnprocessableEntity, templates.TemplateFormProps{New: key == "", Template: t, Fault: f})
	}
	ctx := c.Request().Context()
	rec := store.EmailTemplate{Key: t.Key, Subject: t.Subject, HTML: t.HTML, Text: t.Text, Transactional: t.Transactional}
	if key == "" {
		_, err = h.Store.CreateEmailTemplate(ctx, ws.ID, rec)
	} else {
		_, err = h.Store.UpdateEmailTemplate(ctx, ws.ID, rec)
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		return h.renderTemplateForm(c, http.StatusUnprocessableEntity, templates.TemplateFormProps{New: true, Template: t,
			Fault: &templates.FormFault{Field: "key", Msg: "a template with this key exists"}})
	case errors.Is(err, store.ErrNotFound):
		return errNoTemplate
	case err != nil:
		return err
	}
	admin, _ := h.admin(c)
	logger(c).Info("template saved", "workspace", ws.ID, "template", t.Key, "admin", admin.Email)
	h.flash(c, "success", "Template "+t.Key+" saved.")
	return c.Redirect(http.StatusSeeOther, "/dashboard/templates/"+url.PathEscape(t.Key))
}
