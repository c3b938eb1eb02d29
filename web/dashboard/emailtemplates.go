package dashboard

import (
	"errors"
	"net/http"
	"strings"

	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// TemplatesList is GET /dashboard/templates, with ?preview=KEY&userId=U a
// preview of that template rendered for that user (nothing is sent).
func (h *Handler) TemplatesList(c echo.Context) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	lp, err := h.layoutProps(c, "Templates", "journeys")
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
	if key != "" && user != "" && store.ValidSearchText(user) && store.ValidSearchText(key) {
		p.Preview = h.preview(c, ws.ID.String(), key, user)
	}
	return render.Page(c, http.StatusOK, templates.EmailTemplates(p))
}

func (h *Handler) preview(c echo.Context, _ string, key, user string) templates.TemplatePreview {
	ctx := c.Request().Context()
	ws, _ := h.currentWorkspace(c)
	out := templates.TemplatePreview{Key: key, UserID: user}
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
