package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// audienceJSON is an audience as the API answers it: the stored definition
// plus version, status (building|ready), build progress and member count.
func audienceJSON(r store.AudienceRow, members int64) map[string]any {
	out := audiences.DefinitionJSON(r)
	out["version"] = r.Version
	out["status"] = "ready"
	if r.Building() {
		out["status"] = "building"
		out["build"] = map[string]any{"done": r.BuildDone, "total": r.BuildTotal}
	}
	out["memberCount"] = members
	out["createdAt"] = r.CreatedAt
	out["updatedAt"] = r.UpdatedAt
	return out
}

// audienceErr turns the engine's refusals into the API's answers: a
// definition's fault is 422 naming its path, a key in use 409.
func audienceErr(err error) error {
	var de *audiences.Error
	switch {
	case errors.As(err, &de):
		return &apperr.Error{Code: apperr.Unprocessable, Msg: de.Error(), Err: err}
	case errors.Is(err, store.ErrConflict):
		return &apperr.Error{Code: apperr.Conflict, Msg: "an audience with this key exists: PUT /api/v1/audiences/{key} changes it", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &apperr.Error{Code: apperr.NotFound, Msg: "no audience has this key", Err: err}
	}
	return err
}

// readDefinition reads a definition body, refusing a huge one unread.
func readDefinition(c echo.Context) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, audiences.MaxDefinitionBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read audience definition: %w", err)
	}
	if len(raw) > audiences.MaxDefinitionBytes {
		return nil, apperr.Errorf(apperr.TooLarge, "the definition is over %d bytes", audiences.MaxDefinitionBytes)
	}
	return raw, nil
}

func (h *Handler) engine() (*audiences.Engine, error) {
	if h.Audiences == nil {
		return nil, apperr.New(apperr.Unavailable, "audiences are off on this instance (PROFILES=off)")
	}
	return h.Audiences, nil
}

func (h *Handler) memberCount(c echo.Context, ws uuid.UUID, key string) (int64, error) {
	counts, err := h.Store.AudienceMemberCounts(c.Request().Context(), ws)
	return counts[key], err
}

// AudienceCreate is POST /api/v1/audiences.
func (h *Handler) AudienceCreate(c echo.Context) error {
	eng, err := h.engine()
	if err != nil {
		return err
	}
	raw, err := readDefinition(c)
	if err != nil {
		return err
	}
	r, err := eng.Create(c.Request().Context(), tokenOf(c).WorkspaceID, raw)
	if err != nil {
		return audienceErr(err)
	}
	return c.JSON(http.StatusCreated, audienceJSON(r, 0))
}

// AudienceUpdate is PUT /api/v1/audiences/:key.
func (h *Handler) AudienceUpdate(c echo.Context) error {
	audience, err := idParam(c, "key")
	if err != nil {
		return err
	}
	eng, err := h.engine()
	if err != nil {
		return err
	}
	raw, err := readDefinition(c)
	if err != nil {
		return err
	}
	ws := tokenOf(c).WorkspaceID
	r, err := eng.Update(c.Request().Context(), ws, audience, raw)
	if err != nil {
		return audienceErr(err)
	}
	n, err := h.memberCount(c, ws, r.Key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, audienceJSON(r, n))
}

// AudienceDelete is DELETE /api/v1/audiences/:key.
func (h *Handler) AudienceDelete(c echo.Context) error {
	audience, err := idParam(c, "key")
	if err != nil {
		return err
	}
	eng, err := h.engine()
	if err != nil {
		return err
	}
	if err := eng.Delete(c.Request().Context(), tokenOf(c).WorkspaceID, audience); err != nil {
		return audienceErr(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// AudiencesList is GET /api/v1/audiences.
func (h *Handler) AudiencesList(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	rows, err := h.Store.Audiences(ctx, ws)
	if err != nil {
		return err
	}
	counts, err := h.Store.AudienceMemberCounts(ctx, ws)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, audienceJSON(r, counts[r.Key]))
	}
	return c.JSON(http.StatusOK, map[string]any{"audiences": out})
}

// AudienceShow is GET /api/v1/audiences/:key.
func (h *Handler) AudienceShow(c echo.Context) error {
	audience, err := idParam(c, "key")
	if err != nil {
		return err
	}
	ws := tokenOf(c).WorkspaceID
	r, err := h.Store.Audience(c.Request().Context(), ws, audience)
	if err != nil {
		return audienceErr(err)
	}
	n, err := h.memberCount(c, ws, r.Key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, audienceJSON(r, n))
}

// pageLimit reads ?limit= (1…max, default def).
func pageLimit(c echo.Context, def, most int) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > most {
		return 0, apperr.Errorf(apperr.Invalid, "limit: a whole number from 1 to %d", most)
	}
	return n, nil
}

// AudienceMembers is GET /api/v1/audiences/:key/members?limit=&cursor=.
func (h *Handler) AudienceMembers(c echo.Context) error {
	audience, err := idParam(c, "key")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	r, err := h.Store.Audience(ctx, ws, audience)
	if err != nil {
		return audienceErr(err)
	}
	limit, err := pageLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	after := ""
	if cur := c.QueryParam("cursor"); cur != "" {
		if after, err = store.ParseMemberCursor(cur); err != nil {
			return apperr.New(apperr.Invalid, "cursor: not a cursor this API gave")
		}
	}
	rows, err := h.Store.AudienceMembersPage(ctx, ws, r.Key, r.CurrentVersion, after, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = store.MemberCursor(rows[limit-1].ProfileKey)
	}
	keys := make([]string, len(rows))
	for i, m := range rows {
		keys[i] = m.ProfileKey
	}
	ids, err := h.Store.IdentitiesOfProfiles(ctx, ws, keys)
	if err != nil {
		return err
	}
	type member struct {
		UserID       *string   `json:"userId"`
		AnonymousIDs []string  `json:"anonymousIds"`
		EnteredAt    time.Time `json:"enteredAt"`
	}
	out := make([]member, 0, len(rows))
	for _, m := range rows {
		mb := member{AnonymousIDs: []string{}, EnteredAt: m.Since}
		for _, id := range ids[m.ProfileKey] {
			if id.Kind == store.IdentityUser {
				if id.ProfileKey == m.ProfileKey && "u:"+id.Value == m.ProfileKey {
					v := id.Value
					mb.UserID = &v
				}
			} else {
				mb.AnonymousIDs = append(mb.AnonymousIDs, id.Value)
			}
		}
		out = append(out, mb)
	}
	return c.JSON(http.StatusOK, map[string]any{"members": out, "next": next})
}

// userProfileKey finds the profile of ?userId=.
func (h *Handler) userProfileKey(c echo.Context, ws uuid.UUID, required bool) (string, error) {
	id := c.QueryParam("userId")
	if id == "" {
		if required {
			return "", apperr.New(apperr.Invalid, "userId: required")
		}
		return "", nil
	}
	if !store.ValidSearchText(id) {
		return "", apperr.New(apperr.Invalid, "userId: not a valid id")
	}
	p, err := h.Store.ProfileByIdentity(c.Request().Context(), ws, store.IdentityUser, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", apperr.New(apperr.NotFound, "no profile has this userId")
	}
	return p.Key, err
}

// AudienceExplain is GET /api/v1/audiences/:key/explain?userId=.
func (h *Handler) AudienceExplain(c echo.Context) error {
	audience, err := idParam(c, "key")
	if err != nil {
		return err
	}
	eng, err := h.engine()
	if err != nil {
		return err
	}
	ws := tokenOf(c).WorkspaceID
	key, err := h.userProfileKey(c, ws, true)
	if err != nil {
		return err
	}
	ex, err := eng.Explain(c.Request().Context(), ws, audience, key)
	if err != nil {
		return audienceErr(err)
	}
	return c.JSON(http.StatusOK, ex)
}

// AudienceHistory is GET /api/v1/audiences/:key/history?userId=&limit=&cursor=.
func (h *Handler) AudienceHistory(c echo.Context) error {
	audience, err := idParam(c, "key")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	r, err := h.Store.Audience(ctx, ws, audience)
	if err != nil {
		return audienceErr(err)
	}
	profileKey, err := h.userProfileKey(c, ws, false)
	if err != nil {
		return err
	}
	limit, err := pageLimit(c, 100, 1000)
	if err != nil {
		return err
	}
	var before int64
	if cur := c.QueryParam("cursor"); cur != "" {
		if before, err = strconv.ParseInt(cur, 10, 64); err != nil || before <= 0 {
			return apperr.New(apperr.Invalid, "cursor: not a cursor this API gave")
		}
	}
	rows, err := h.Store.AudienceHistoryPage(ctx, ws, r.Key, profileKey, before, limit+1)
	if err != nil {
		return err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = strconv.FormatInt(rows[limit-1].ID, 10)
	}
	type entry struct {
		UserID     *string   `json:"userId"`
		Transition string    `json:"transition"`
		At         time.Time `json:"at"`
		Cause      string    `json:"cause"`
		Version    int       `json:"version"`
	}
	out := make([]entry, 0, len(rows))
	for _, hr := range rows {
		e := entry{Transition: "exited", At: hr.At, Cause: hr.Cause, Version: hr.Version}
		if hr.Entered {
			e.Transition = "entered"
		}
		if hr.UserID != "" {
			u := hr.UserID
			e.UserID = &u
		}
		out = append(out, e)
	}
	return c.JSON(http.StatusOK, map[string]any{"history": out, "next": next})
}

// AudiencePreview is POST /api/v1/audiences/preview.
func (h *Handler) AudiencePreview(c echo.Context) error {
	eng, err := h.engine()
	if err != nil {
		return err
	}
	raw, err := readDefinition(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	res, err := eng.Preview(ctx, ws, raw)
	if err != nil {
		return audienceErr(err)
	}
	ids, err := h.Store.IdentitiesOfProfiles(ctx, ws, res.Sample)
	if err != nil {
		return err
	}
	sample := make([]map[string]any, 0, len(res.Sample))
	for _, k := range res.Sample {
		var uid any
		anons := []string{}
		for _, id := range ids[k] {
			if id.Kind == store.IdentityUser && "u:"+id.Value == k {
				uid = id.Value
			} else if id.Kind == store.IdentityAnon {
				anons = append(anons, id.Value)
			}
		}
		sample = append(sample, map[string]any{"userId": uid, "anonymousIds": anons})
	}
	return c.JSON(http.StatusOK, map[string]any{"count": res.Count, "sample": sample})
}

// userAudiences is the "audiences" of GET /api/v1/users/{userId}.
func (h *Handler) userAudiences(c echo.Context, ws uuid.UUID, profileKey string) ([]map[string]any, error) {
	rows, err := h.Store.ProfileAudiences(c.Request().Context(), ws, profileKey)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, m := range rows {
		out = append(out, map[string]any{"key": m.AudienceKey, "enteredAt": m.Since})
	}
	return out, nil
}
