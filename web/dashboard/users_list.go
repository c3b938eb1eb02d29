package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

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
	if _, p.Warnings, err = h.Store.ListMergeRefusals(ctx, ws.ID, 0, 0); err != nil {
		return fmt.Errorf("identity warnings: %w", err)
	}
	if !store.ValidSearchText(q) || !store.ValidSearchText(trait) {
		p.Error = fmt.Sprintf("Enter text of at most %d characters.", store.MaxSearchText)
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
