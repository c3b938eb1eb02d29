package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// maxQueryText bounds ids and trait values in queries (index lookups).
const maxQueryText = 1024

func badText(v string) bool {
	return len(v) > maxQueryText || !utf8.ValidString(v) || strings.ContainsRune(v, 0)
}

// UserShow is GET /api/v1/users/:userId.
func (h *Handler) UserShow(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	id := c.Param("userId")
	if id == "" || badText(id) {
		return jsonError(c, http.StatusBadRequest, "userId: not a valid id")
	}
	v, err := profiles.Find(ctx, h.Store, ws, store.IdentityUser, id)
	if errors.Is(err, store.ErrNotFound) {
		suppressed, serr := profiles.IsSuppressed(ctx, h.Store, ws, store.IdentityUser, id)
		if serr != nil {
			return h.unavailable(c, serr)
		}
		if suppressed {
			return jsonError(c, http.StatusNotFound, "this user was erased and their ids are suppressed", "suppressed", true)
		}
		return jsonError(c, http.StatusNotFound, "no profile has this userId", "suppressed", false)
	}
	if err != nil {
		return h.unavailable(c, err)
	}
	auds, err := h.userAudiences(c, ws, v.Key)
	if err != nil {
		return h.unavailable(c, err)
	}
	return c.JSON(http.StatusOK, struct {
		profiles.View
		Audiences []map[string]any `json:"audiences"`
	}{v, auds})
}

// UsersList is GET /api/v1/users: by ?anonymousId=, by ?trait.KEY=VALUE, or
// every profile, newest last seen first, with a cursor (?cursor=, answered
// in "next").
func (h *Handler) UsersList(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	q := c.QueryParams()
	if anon := q.Get("anonymousId"); q.Has("anonymousId") {
		if anon == "" || badText(anon) {
			return jsonError(c, http.StatusBadRequest, "anonymousId: not a valid id")
		}
		v, err := profiles.Find(ctx, h.Store, ws, store.IdentityAnon, anon)
		if errors.Is(err, store.ErrNotFound) {
			return c.JSON(http.StatusOK, map[string]any{"users": []profiles.View{}, "next": ""})
		}
		if err != nil {
			return h.unavailable(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"users": []profiles.View{v}, "next": ""})
	}
	f := store.ProfileFilter{Limit: 50}
	for k, vals := range q {
		if key, ok := strings.CutPrefix(k, "trait."); ok {
			if f.TraitKey != "" {
				return jsonError(c, http.StatusBadRequest, "search by one trait at a time")
			}
			if key == "" || badText(key) || len(vals) != 1 || badText(vals[0]) {
				return jsonError(c, http.StatusBadRequest, k+": give one trait value")
			}
			f.TraitKey, f.TraitValue = key, vals[0]
		}
	}
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 500 {
			return jsonError(c, http.StatusBadRequest, "limit: a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if raw := q.Get("cursor"); raw != "" {
		cur, err := store.ParseProfileCursor(raw)
		if err != nil {
			return jsonError(c, http.StatusBadRequest, "cursor: not a cursor this API gave")
		}
		f.After = &cur
	}
	rows, next, err := h.Store.ListProfiles(ctx, ws, f)
	if err != nil {
		return h.unavailable(c, err)
	}
	views, err := profiles.Views(ctx, h.Store, ws, rows)
	if err != nil {
		return h.unavailable(c, err)
	}
	nextS := ""
	if next != nil {
		nextS = next.String()
	}
	return c.JSON(http.StatusOK, map[string]any{"users": views, "next": nextS})
}
