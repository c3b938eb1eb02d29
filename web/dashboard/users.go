package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/pathparam"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// maxSearchText bounds searched ids and trait values (index lookups).
const maxSearchText = 1024

// usersPage is how many profiles one page of /dashboard/users lists.
const usersPage = 50

// userURL is the page of the profile with userID.
func userURL(userID string) templ.SafeURL {
	return templ.SafeURL("/dashboard/users/" + url.PathEscape(userID))
}

// anonURL is the page of the profile an anonymous id belongs to.
func anonURL(anon string) templ.SafeURL {
	return templ.SafeURL("/dashboard/anonymous/" + url.PathEscape(anon))
}

func badSearchText(v string) bool {
	return len(v) > maxSearchText || !utf8.ValidString(v) || strings.ContainsRune(v, 0)
}

// UsersList is GET /dashboard/users: every profile newest last seen first
// (keyset pages), or the profiles a search finds: by userId, by anonymous id,
// and by a trait value (email unless the admin names another trait).
func (h *Handler) UsersList(c echo.Context) error {
	lp, err := h.layoutProps(c, "Users", "users")
	if err != nil {
		return err
	}
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	trait := strings.TrimSpace(c.QueryParam("trait"))
	if trait == "" {
		trait = "email"
	}
	p := templates.UsersProps{Layout: lp, Query: q, TraitKey: trait, Searched: q != ""}
	if badSearchText(q) || badSearchText(trait) {
		p.Error = fmt.Sprintf("Enter text of at most %d characters.", maxSearchText)
		return render.Page(c, http.StatusBadRequest, templates.Users(p))
	}
	f := store.ProfileFilter{Limit: usersPage}
	if raw := c.QueryParam("after"); raw != "" {
		cur, err := store.ParseProfileCursor(raw)
		if err != nil {
			p.PageError = "This page link is not valid. Start again from the newest profiles."
			return render.Page(c, http.StatusBadRequest, templates.Users(p))
		}
		f.After = &cur
		p.FirstURL = usersURL(q, trait, "")
	}
	var rows []store.ProfileRow
	matched := map[string]string{}
	if q != "" && f.After == nil {
		// Exact ids first: at most one profile each.
		for _, by := range []struct{ kind, label string }{{store.IdentityUser, "userId"}, {store.IdentityAnon, "anonymousId"}} {
			row, err := h.Store.ProfileByIdentity(ctx, ws.ID, by.kind, q)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return fmt.Errorf("find profile by %s: %w", by.label, err)
			}
			if _, dup := matched[row.Key]; !dup {
				matched[row.Key] = by.label
				rows = append(rows, row)
			}
		}
	}
	if q != "" {
		f.TraitKey, f.TraitValue = trait, q
	}
	page, next, err := h.Store.ListProfiles(ctx, ws.ID, f)
	if err != nil {
		return fmt.Errorf("list profiles of %s: %w", ws.ID, err)
	}
	for _, r := range page {
		if _, dup := matched[r.Key]; dup {
			continue
		}
		if q != "" {
			matched[r.Key] = "trait " + trait
		}
		rows = append(rows, r)
	}
	if next != nil {
		p.NextURL = usersURL(q, trait, next.String())
	}
	views, err := profiles.Views(ctx, h.Store, ws.ID, rows)
	if err != nil {
		return fmt.Errorf("profile views: %w", err)
	}
	for _, v := range views {
		row := templates.UserListRow{FirstSeen: v.FirstSeen, LastSeen: v.LastSeen, EventCount: v.EventCount, MatchedBy: matched[v.Key]}
		if v.UserID != nil {
			row.UserID, row.URL = *v.UserID, userURL(*v.UserID)
		} else if len(v.AnonymousIDs) > 0 {
			row.URL = anonURL(v.AnonymousIDs[0])
		}
		const shownAnon = 3
		row.AnonymousIDs = v.AnonymousIDs[:min(shownAnon, len(v.AnonymousIDs))]
		row.MoreAnon = len(v.AnonymousIDs) - len(row.AnonymousIDs)
		if raw, ok := v.Traits["email"]; ok {
			row.Email, _ = cutJSON(raw, 200)
		}
		if row.URL != "" {
			p.Users = append(p.Users, row)
		}
	}
	return render.Page(c, http.StatusOK, templates.Users(p))
}

func usersURL(q, trait, after string) templ.SafeURL {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if trait != "" && trait != "email" {
		v.Set("trait", trait)
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return "/dashboard/users"
	}
	return templ.SafeURL("/dashboard/users?" + v.Encode())
}

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
	if err != nil || id == "" || badSearchText(id) {
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
	if p.Audiences, err = h.profileAudiences(c, ws, v.Key); err != nil {
		return fmt.Errorf("profile audiences: %w", err)
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
		var users, anons []string
		for _, id := range v.Identities {
			if id.Kind == "anonymousId" {
				anons = append(anons, id.ID)
			} else {
				users = append(users, id.ID)
			}
		}
		keys, err := h.keyLabels(ctx, ws.ID)
		if err != nil {
			return err
		}
		page, err := h.Store.ListProfileEvents(ctx, ws.ID, users, anons, before, timelinePage)
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

// timelinePage is how many events one page of a profile's timeline shows.
const timelinePage = 50

// What one profile page shows at most, whatever the profile holds: the
// page stays small however many traits or names a sender invents.
const (
	maxShownTraits     = 200
	maxShownNames      = 100
	maxShownTraitBytes = 1000
)

// fillProfile turns a view into the page's rows, bounded.
func fillProfile(p *templates.UserProps, v profiles.View) {
	p.FirstSeen, p.LastSeen, p.EventCount = v.FirstSeen, v.LastSeen, v.EventCount
	keys := make([]string, 0, len(v.Traits))
	for k := range v.Traits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > maxShownTraits {
		p.TraitsMore = len(keys) - maxShownTraits
		keys = keys[:maxShownTraits]
	}
	for _, k := range keys {
		row := traitRow(k, v.Traits[k])
		if s, ok := v.TraitsSetBy[k]; ok {
			row.SetAt, row.MessageID = s.Timestamp, s.MessageID
		}
		p.Traits = append(p.Traits, row)
	}
	for _, id := range v.Identities {
		row := templates.IdentityRow{Kind: id.Kind, ID: id.ID, MessageID: id.MessageID, Why: identityWhy(id)}
		if id.Timestamp != nil {
			row.At = *id.Timestamp
		}
		p.Identities = append(p.Identities, row)
	}
	for _, g := range v.Groups {
		gr := templates.GroupRow{GroupID: g.GroupID, SetAt: g.SetBy.Timestamp, MessageID: g.SetBy.MessageID}
		gkeys := make([]string, 0, len(g.Traits))
		for k := range g.Traits {
			gkeys = append(gkeys, k)
		}
		sort.Strings(gkeys)
		for _, k := range gkeys[:min(len(gkeys), maxShownTraits)] {
			gr.Traits = append(gr.Traits, traitRow(k, g.Traits[k]))
		}
		p.Groups = append(p.Groups, gr)
	}
	p.Counts = countRows(v.EventCounts)
	p.Names = countRows(v.EventNames)
	if len(p.Names) > maxShownNames {
		p.NamesMore = len(p.Names) - maxShownNames
		p.Names = p.Names[:maxShownNames]
	}
}

func traitRow(key string, raw []byte) templates.TraitRow {
	val, cut := cutJSON(raw, maxShownTraitBytes)
	return templates.TraitRow{Key: key, Value: val, Cut: cut, Size: len(raw)}
}

// identityWhy explains in words why an id belongs to the profile.
func identityWhy(id profiles.IdentityView) string {
	switch id.Via {
	case "own":
		return "the profile's own id"
	case "link":
		return "an event carried it together with the userId"
	case "alias":
		return "merged by an alias call"
	case "capped":
		return "kept apart: the profile holds its maximum of anonymous ids"
	}
	return id.Via
}

// countRows sorts counts most frequent first, then by name.
func countRows(m map[string]int64) []templates.CountRow {
	out := make([]templates.CountRow, 0, len(m))
	for k, n := range m {
		out = append(out, templates.CountRow{Name: k, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// UserDelete is POST /dashboard/users/:userId/delete.
func (h *Handler) UserDelete(c echo.Context) error {
	ref, err := userRef(c)
	if err != nil {
		return err
	}
	return h.erase(c, ref)
}

// AnonymousDelete is POST /dashboard/anonymous/:anonymousId/delete.
func (h *Handler) AnonymousDelete(c echo.Context) error {
	ref, err := anonRef(c)
	if err != nil {
		return err
	}
	return h.erase(c, ref)
}

// erase deletes the profile ref names with every event of its ids, once
// confirmed, and suppresses the ids unless the box was unticked.
func (h *Handler) erase(c echo.Context, ref profileRef) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	if c.FormValue("confirm") != "yes" {
		return h.renderUser(c, http.StatusUnprocessableEntity, ref,
			"Tick the box to confirm: the profile and all its events are deleted for good.")
	}
	admin, _ := h.admin(c)
	req := profiles.EraseRequest{RequestedBy: "admin " + admin.Email, Suppress: c.FormValue("suppress") == "yes"}
	if ref.anonymous() {
		req.AnonymousID = ref.id
	} else {
		req.UserID = ref.id
	}
	res, err := profiles.Erase(c.Request().Context(), h.Store, ws.ID, req, h.Suppressions, h.Profiles)
	if err != nil {
		return fmt.Errorf("erase profile: %w", err)
	}
	// Never the ids: the log says that an erasure happened, not whom.
	logger(c).Info("user erased", "workspace", ws.ID, "erasure", res.ErasureID, "identities", res.Identities,
		"events_deleted", res.EventsDeleted, "suppressed", res.Suppressed, "admin", admin.Email)
	msg := fmt.Sprintf("Deleted the profile, %d ids and %d events.", res.Identities, res.EventsDeleted)
	if res.Suppressed {
		msg += " Their later events are acknowledged and not stored."
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, ref.url())
}

// UserUnsuppress is POST /dashboard/users/:userId/unsuppress.
func (h *Handler) UserUnsuppress(c echo.Context) error {
	ref, err := userRef(c)
	if err != nil {
		return err
	}
	return h.unsuppress(c, ref)
}

// AnonymousUnsuppress is POST /dashboard/anonymous/:anonymousId/unsuppress.
func (h *Handler) AnonymousUnsuppress(c echo.Context) error {
	ref, err := anonRef(c)
	if err != nil {
		return err
	}
	return h.unsuppress(c, ref)
}

func (h *Handler) unsuppress(c echo.Context, ref profileRef) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	n, err := profiles.LiftSuppression(c.Request().Context(), h.Store, ws.ID, ref.kind, ref.id, h.Suppressions)
	if err != nil {
		return fmt.Errorf("lift suppression: %w", err)
	}
	if n == 0 {
		h.flash(c, "error", "This id was not suppressed.")
	} else {
		admin, _ := h.admin(c)
		logger(c).Info("suppression lifted", "workspace", ws.ID, "ids", n, "admin", admin.Email)
		h.flash(c, "success", fmt.Sprintf("Suppression lifted for %d ids: their events are stored again from now on.", n))
	}
	return c.Redirect(http.StatusSeeOther, ref.url())
}
