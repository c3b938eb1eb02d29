package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/a-h/templ"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/pathparam"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// profileRef names the profile a page is about: by userId or by anonymous id.
type profileRef struct {
	kind, id string
}

func (r profileRef) anonymous() bool { return r.kind == store.IdentityAnon }

func (r profileRef) url() string {
	if r.anonymous() {
		return string(anonURL(r.id))
	}
	return string(userURL(r.id))
}

func userRef(c echo.Context) (profileRef, error) {
	return refFrom(c, store.IdentityUser, "userId")
}

func anonRef(c echo.Context) (profileRef, error) {
	return refFrom(c, store.IdentityAnon, "anonymousId")
}

func refFrom(c echo.Context, kind, param string) (profileRef, error) {
	id, err := pathparam.Get(c, param)
	if err != nil || id == "" || !store.ValidSearchText(id) {
		return profileRef{}, notFound("No profile has this id.")
	}
	return profileRef{kind: kind, id: id}, nil
}

// UserShow is GET /dashboard/users/:userId.
func (h *Handler) UserShow(c echo.Context) error {
	ref, err := userRef(c)
	if err != nil {
		return err
	}
	return h.renderUser(c, http.StatusOK, ref, "")
}

// AnonymousShow is GET /dashboard/anonymous/:anonymousId: the profile the
// anonymous id belongs to; when that profile has a userId, its page.
func (h *Handler) AnonymousShow(c echo.Context) error {
	ref, err := anonRef(c)
	if err != nil {
		return err
	}
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	row, err := h.Store.ProfileByIdentity(c.Request().Context(), ws.ID, store.IdentityAnon, ref.id)
	if err == nil && row.UserID != "" {
		return c.Redirect(http.StatusSeeOther, string(userURL(row.UserID)))
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("profile of anonymous id: %w", err)
	}
	return h.renderUser(c, http.StatusOK, ref, "")
}

// renderUser renders the page of ref's profile in the current workspace.
// maxListedUserIDs bounds the userIds the erasure confirmation names.
const maxListedUserIDs = 50

func (h *Handler) renderUser(c echo.Context, status int, ref profileRef, deleteErr string) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	title := ref.id
	if ref.anonymous() {
		title = "Anonymous " + ref.id
	}
	lp, err := h.layoutProps(c, title, "users")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p := templates.UserProps{Layout: lp, WorkspaceID: ws.ID.String(), Heading: ref.id, Anonymous: ref.anonymous(),
		BaseURL: ref.url(), DeleteError: deleteErr}
	if p.Suppressed, err = profiles.IsSuppressed(ctx, h.Store, ws.ID, ref.kind, ref.id); err != nil {
		return fmt.Errorf("suppression of profile: %w", err)
	}
	v, err := profiles.Find(ctx, h.Store, ws.ID, ref.kind, ref.id)
	if errors.Is(err, store.ErrNotFound) {
		if !p.Suppressed {
			status = http.StatusNotFound
		}
		return render.Page(c, status, templates.User(p))
	}
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	p.Found = true
	fillProfile(&p, v)
	if err := h.fillIdentities(c, &p, ws.ID, v, ref); err != nil {
		return err
	}
	// The timeline and the erasure confirmation show the events an erasure
	// takes: those attributed to this profile, not every event that ever
	// carried one of its anonymous ids (a shared device's other users).
	sc, err := profiles.ScopeOf(ctx, h.Store, ws.ID, ref.kind, ref.id)
	if err != nil {
		return fmt.Errorf("profile scope: %w", err)
	}
	if p.EraseCount, err = profiles.CountErasable(ctx, h.Store, ws.ID, sc); err != nil {
		return fmt.Errorf("count erasable events: %w", err)
	}
	// A profile merged by trusted sources may hold thousands of userIds: the
	// page names the first ones and counts the rest, so it stays bounded.
	p.EraseUserIDs = sc.UserIDs
	if n := len(p.EraseUserIDs); n > maxListedUserIDs {
		p.EraseUserIDs, p.EraseUserIDsMore = p.EraseUserIDs[:maxListedUserIDs], n-maxListedUserIDs
	}
	if p.Audiences, err = h.profileAudiences(c, ws, v.Key); err != nil {
		return fmt.Errorf("profile audiences: %w", err)
	}
	if v.UserID != nil {
		if err := h.fillMessaging(ctx, ws.ID, *v.UserID, &p); err != nil {
			return err
		}
	}

	var before *store.EventCursor
	if raw := c.QueryParam("before"); raw != "" {
		cur, err := store.ParseEventCursor(raw)
		if err != nil {
			p.PageError = "This page link is not valid. Start again from the newest events."
			status = http.StatusBadRequest
		} else {
			before = &cur
			p.NewestURL = templ.SafeURL(ref.url() + "#timeline-section")
		}
	}
	if p.PageError == "" {
		keys, err := h.keyLabels(ctx, ws.ID)
		if err != nil {
			return err
		}
		page, err := h.Store.ListProfileEvents(ctx, ws.ID, sc.Events, before, timelinePage)
		if err != nil {
			return fmt.Errorf("profile timeline: %w", err)
		}
		for _, e := range page.Events {
			row := eventRow(e, keys)
			row.WorkspaceID = ws.ID.String()
			if e.UserID != "" {
				row.UserURL = templ.SafeURL("/dashboard/events?user=" + url.QueryEscape(e.UserID))
			}
			if e.AnonymousID != "" {
				row.AnonymousURL = templ.SafeURL("/dashboard/events?user=" + url.QueryEscape(e.AnonymousID))
			}
			p.Events = append(p.Events, row)
		}
		if page.Older != nil && len(page.Events) > 0 {
			p.OlderURL = templ.SafeURL(ref.url() + "?before=" + url.QueryEscape(page.Older.String()) + "#timeline-section")
		}
	}
	return render.Page(c, status, templates.User(p))
}
