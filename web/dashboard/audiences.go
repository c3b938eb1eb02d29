package dashboard

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/a-h/templ"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// audienceMembersPage is how many members an audience's page lists.
const audienceMembersPage = 50

func audienceRowView(r store.AudienceRow, members int64) templates.AudienceRowView {
	return templates.AudienceRowView{Key: r.Key, Name: r.Name, Version: r.Version, Building: r.Building(),
		BuildDone: r.BuildDone, BuildTotal: r.BuildTotal, Members: members}
}

func (h *Handler) audienceEngine() (*audiences.Engine, error) {
	if h.Audiences == nil {
		return nil, apperr.New(apperr.Unavailable, "Audiences are off on this instance (PROFILES=off).")
	}
	return h.Audiences, nil
}

// AudiencesList is GET /dashboard/audiences.
func (h *Handler) AudiencesList(c echo.Context) error {
	lp, err := h.layoutProps(c, "Audiences", "audiences")
	if err != nil {
		return err
	}
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := h.Store.Audiences(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("list audiences: %w", err)
	}
	counts, err := h.Store.AudienceMemberCounts(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("count audience members: %w", err)
	}
	p := templates.AudiencesProps{Layout: lp}
	for _, r := range rows {
		p.Audiences = append(p.Audiences, audienceRowView(r, counts[r.Key]))
	}
	return render.Page(c, http.StatusOK, templates.Audiences(p))
}

// AudienceNew is GET /dashboard/audiences/new: the builder, empty.
func (h *Handler) AudienceNew(c echo.Context) error {
	return h.renderAudience(c, http.StatusOK, "", func(p *templates.AudienceProps) {
		p.Definition = `{"key": "", "name": "", "condition": {"trait": "", "op": "eq", "value": ""}}`
	})
}

// AudienceShow is GET /dashboard/audiences/:key.
func (h *Handler) AudienceShow(c echo.Context) error {
	return h.renderAudience(c, http.StatusOK, c.Param("key"), nil)
}

// renderAudience renders the builder page, of an existing audience when key
// is set (with its members and transitions), else a new one.
func (h *Handler) renderAudience(c echo.Context, status int, key string, edit func(*templates.AudienceProps)) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	title := "New audience"
	if key != "" {
		title = "Audience " + key
	}
	lp, err := h.layoutProps(c, title, "audiences")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := h.Store.Audiences(ctx, ws.ID)
	if err != nil {
		return fmt.Errorf("list audiences: %w", err)
	}
	p := templates.AudienceProps{Layout: lp, WorkspaceID: ws.ID.String(), New: key == ""}
	var row *store.AudienceRow
	for i, r := range rows {
		if r.Key == key {
			row = &rows[i]
		} else {
			p.OtherKeys = append(p.OtherKeys, r.Key)
		}
	}
	if key != "" {
		if row == nil {
			return apperr.New(apperr.NotFound, "No audience has this key.")
		}
		counts, err := h.Store.AudienceMemberCounts(ctx, ws.ID)
		if err != nil {
			return fmt.Errorf("count audience members: %w", err)
		}
		p.Row = audienceRowView(*row, counts[key])
		p.Definition = string(row.Definition)
		if err := h.audienceMembers(c, ws.ID.String(), *row, &p); err != nil {
			return err
		}
	}
	if edit != nil {
		edit(&p)
	}
	return render.Page(c, status, templates.Audience(p))
}

// audienceMembers fills one page of members and the recent transitions.
func (h *Handler) audienceMembers(c echo.Context, _ string, r store.AudienceRow, p *templates.AudienceProps) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	after := ""
	if raw := c.QueryParam("after"); raw != "" {
		if after, err = store.ParseMemberCursor(raw); err != nil {
			return apperr.New(apperr.Invalid, "This page link is not valid.")
		}
	}
	members, err := h.Store.AudienceMembersPage(ctx, ws.ID, r.Key, r.CurrentVersion, after, audienceMembersPage+1)
	if err != nil {
		return fmt.Errorf("audience members: %w", err)
	}
	if len(members) > audienceMembersPage {
		members = members[:audienceMembersPage]
		p.NextURL = templ.SafeURL("/dashboard/audiences/" + r.Key + "?after=" +
			store.MemberCursor(members[len(members)-1].ProfileKey) + "#members-section")
	}
	for _, m := range members {
		label, u := profileLink(m.ProfileKey)
		p.Members = append(p.Members, templates.AudienceMemberView{Label: label, URL: u, EnteredAt: m.Since})
	}
	hist, err := h.Store.AudienceHistoryPage(ctx, ws.ID, r.Key, "", 0, 20)
	if err != nil {
		return fmt.Errorf("audience history: %w", err)
	}
	for _, t := range hist {
		label, u := profileLink(t.ProfileKey)
		p.Transitions = append(p.Transitions, templates.AudienceTransitionView{Label: label, URL: u, Entered: t.Entered, At: t.At, Cause: t.Cause})
	}
	return nil
}

// profileLink names a profile by its key ("u:<userId>", "a:<anonymousId>")
// and links its page.
func profileLink(key string) (string, templ.SafeURL) {
	if len(key) < 2 {
		return key, ""
	}
	id := key[2:]
	switch key[:2] {
	case "u:":
		return id, userURL(id)
	case "a:":
		return "anonymous " + id, anonURL(id)
	}
	return key, ""
}

// definitionFromForm is the builder's JSON with the form's key, name and
// flags set on it (the form works without the builder's script too).
func definitionFromForm(c echo.Context, key string) ([]byte, error) {
	raw := c.FormValue("definition")
	if len(raw) > audiences.MaxDefinitionBytes {
		return []byte(raw), nil // Parse refuses it with its own message
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil || m == nil {
		return []byte(raw), nil
	}
	if key == "" {
		key = c.FormValue("key")
	}
	m["key"] = key
	if name := c.FormValue("name"); name != "" {
		m["name"] = name
	}
	m["includeAnonymous"] = c.FormValue("includeAnonymous") == "true"
	m["emitOnBuild"] = c.FormValue("emitOnBuild") == "true"
	return json.Marshal(m)
}

// AudienceCreate is POST /dashboard/audiences.
func (h *Handler) AudienceCreate(c echo.Context) error {
	return h.saveAudience(c, "")
}

// AudienceUpdate is POST /dashboard/audiences/:key.
func (h *Handler) AudienceUpdate(c echo.Context) error {
	return h.saveAudience(c, c.Param("key"))
}

func (h *Handler) saveAudience(c echo.Context, key string) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	eng, err := h.audienceEngine()
	if err != nil {
		return err
	}
	raw, err := definitionFromForm(c, key)
	if err != nil {
		return fmt.Errorf("audience form: %w", err)
	}
	ctx := c.Request().Context()
	var r store.AudienceRow
	if key == "" {
		r, err = eng.Create(ctx, ws.ID, raw)
	} else {
		r, err = eng.Update(ctx, ws.ID, key, raw)
	}
	var de *audiences.Error
	switch {
	case errors.As(err, &de), errors.Is(err, store.ErrConflict):
		msg := "An audience with this key exists."
		if de != nil {
			msg = de.Error()
		}
		return h.renderAudience(c, http.StatusUnprocessableEntity, key, func(p *templates.AudienceProps) {
			p.Error, p.Definition = msg, string(raw)
			if key == "" {
				p.Row.Key = c.FormValue("key")
				p.Row.Name = c.FormValue("name")
			}
		})
	case errors.Is(err, store.ErrNotFound):
		return apperr.New(apperr.NotFound, "No audience has this key.")
	case err != nil:
		return fmt.Errorf("save audience: %w", err)
	}
	admin, _ := h.admin(c)
	logger(c).Info("audience saved", "workspace", ws.ID, "audience", r.Key, "version", r.Version, "admin", admin.Email)
	h.flash(c, "success", fmt.Sprintf("Audience %s saved as version %d: it is being built.", r.Key, r.Version))
	return c.Redirect(http.StatusSeeOther, "/dashboard/audiences/"+url.PathEscape(r.Key))
}

// AudienceDelete is POST /dashboard/audiences/:key/delete.
func (h *Handler) AudienceDelete(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	eng, err := h.audienceEngine()
	if err != nil {
		return err
	}
	key := c.Param("key")
	err = eng.Delete(c.Request().Context(), ws.ID, key)
	var de *audiences.Error
	switch {
	case errors.As(err, &de):
		return h.renderAudience(c, http.StatusUnprocessableEntity, key, func(p *templates.AudienceProps) { p.Error = de.Msg })
	case errors.Is(err, store.ErrNotFound):
		return apperr.New(apperr.NotFound, "No audience has this key.")
	case err != nil:
		return fmt.Errorf("delete audience: %w", err)
	}
	h.flash(c, "success", "Audience "+key+" deleted.")
	return c.Redirect(http.StatusSeeOther, "/dashboard/audiences")
}

// AudiencePreview is POST /dashboard/audiences/preview (the builder's live
// count): JSON in, {"count"} or {"error"} out.
func (h *Handler) AudiencePreview(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	eng, err := h.audienceEngine()
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, audiences.MaxDefinitionBytes+1))
	if err != nil {
		return fmt.Errorf("read preview: %w", err)
	}
	res, err := eng.Preview(c.Request().Context(), ws.ID, raw)
	var de *audiences.Error
	if errors.As(err, &de) {
		return c.JSON(http.StatusOK, map[string]string{"error": de.Error()})
	}
	if err != nil {
		return fmt.Errorf("preview audience: %w", err)
	}
	return c.JSON(http.StatusOK, map[string]int64{"count": res.Count})
}

// profileAudiences lists the audiences of a profile with their explain
// trees, for its page.
func (h *Handler) profileAudiences(c echo.Context, ws store.Workspace, profileKey string) ([]templates.ProfileAudienceView, error) {
	ctx := c.Request().Context()
	rows, err := h.Store.ProfileAudiences(ctx, ws.ID, profileKey)
	if err != nil || len(rows) == 0 || h.Audiences == nil {
		return nil, err
	}
	names := map[string]string{}
	auds, err := h.Store.Audiences(ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range auds {
		names[a.Key] = a.Name
	}
	var out []templates.ProfileAudienceView
	for _, m := range rows {
		v := templates.ProfileAudienceView{Key: m.AudienceKey, Name: names[m.AudienceKey], EnteredAt: m.Since}
		ex, err := h.Audiences.Explain(ctx, ws.ID, m.AudienceKey, profileKey)
		if err != nil {
			return nil, fmt.Errorf("explain %s: %w", m.AudienceKey, err)
		}
		if ex.Tree != nil {
			v.Explain = explainView(ex.Tree)
		}
		out = append(out, v)
	}
	return out, nil
}

func explainView(e *audiences.Explain) templates.ExplainView {
	v := templates.ExplainView{Type: e.Type, Result: e.Result}
	if e.Seen != nil {
		b, _ := json.Marshal(e.Seen)
		v.Seen = clip(string(b), 200)
	}
	if e.NextChangeAt != nil {
		v.Next = e.NextChangeAt.UTC().Format(time.RFC3339)
	}
	for _, c := range e.Children {
		v.Children = append(v.Children, explainView(c))
	}
	return v
}
