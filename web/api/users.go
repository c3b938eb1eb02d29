package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web/pathparam"
	"github.com/labstack/echo/v4"
)

// idParam is the id in the path parameter name, decoded whatever it holds
// ("/", "%", "+", spaces, unicode: see package pathparam).
func idParam(c echo.Context, name string) (string, error) {
	id, err := pathparam.Get(c, name)
	if err != nil || id == "" || !store.ValidSearchText(id) {
		return "", invalid(name + ": not a valid id")
	}
	return id, nil
}

// limitParam reads ?limit= (1 to store.MaxEventPage), def when absent.
func limitParam(c echo.Context, def int) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > store.MaxEventPage {
		return 0, invalid(fmt.Sprintf("limit: a whole number from 1 to %d", store.MaxEventPage))
	}
	return n, nil
}

// UserShow is GET /api/v1/users/:userId.
func (h *Handler) UserShow(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	id, err := idParam(c, "userId")
	if err != nil {
		return err
	}
	v, err := profiles.Find(ctx, h.Store, ws, store.IdentityUser, id)
	if errors.Is(err, store.ErrNotFound) {
		suppressed, serr := profiles.IsSuppressed(ctx, h.Store, ws, store.IdentityUser, id)
		if serr != nil {
			return fmt.Errorf("suppression of userId: %w", serr)
		}
		if suppressed {
			return apperr.New(apperr.NotFound, "this user was erased and their ids are suppressed").With("suppressed", true)
		}
		return apperr.New(apperr.NotFound, "no profile has this userId").With("suppressed", false)
	}
	if err != nil {
		return fmt.Errorf("profile by userId: %w", err)
	}
	auds, err := h.userAudiences(c, ws, v.Key)
	if err != nil {
		return fmt.Errorf("audiences of userId: %w", err)
	}
	subs, err := h.Store.Subscriptions(ctx, ws, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, userJSON{View: v, Audiences: auds, Subscriptions: subscriptionsJSON(subs)})
}

// userJSON is a profile with its audiences and subscription choices.
type userJSON struct {
	profiles.View
	Audiences     []map[string]any            `json:"audiences"`
	Subscriptions map[string]subscriptionJSON `json:"subscriptions"`
}

type subscriptionJSON struct {
	Subscribed bool      `json:"subscribed"`
	Since      time.Time `json:"since"`
}

// subscriptionsJSON is group → {subscribed, since}: the groups the user
// chose for (others follow the group's default: opt-out groups send,
// opt-in groups do not).
func subscriptionsJSON(subs []store.Subscription) map[string]subscriptionJSON {
	out := make(map[string]subscriptionJSON, len(subs))
	for _, s := range subs {
		out[s.Group] = subscriptionJSON{Subscribed: s.Subscribed, Since: s.Since}
	}
	return out
}

// UsersList is GET /api/v1/users: by ?anonymousId=, by ?trait.KEY=VALUE, or
// every profile, newest last seen first, with a cursor (?cursor=, answered
// in "next"). The page is read and written a chunk at a time.
func (h *Handler) UsersList(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	q := c.QueryParams()
	if err := onlyParams(q, "anonymousId", "trait.", "cursor", "limit"); err != nil {
		return err
	}
	if anon := q.Get("anonymousId"); q.Has("anonymousId") {
		if anon == "" || !store.ValidSearchText(anon) {
			return invalid("anonymousId: not a valid id")
		}
		v, err := profiles.Find(ctx, h.Store, ws, store.IdentityAnon, anon)
		if errors.Is(err, store.ErrNotFound) {
			return c.JSON(http.StatusOK, map[string]any{"users": []profiles.View{}, "next": ""})
		}
		if err != nil {
			return fmt.Errorf("profile by anonymousId: %w", err)
		}
		return c.JSON(http.StatusOK, map[string]any{"users": []profiles.View{v}, "next": ""})
	}
	var f store.ProfileFilter
	for k, vals := range q {
		if key, ok := strings.CutPrefix(k, "trait."); ok {
			if f.TraitKey != "" {
				return invalid("search by one trait at a time")
			}
			if key == "" || !store.ValidSearchText(key) || len(vals) != 1 || !store.ValidSearchText(vals[0]) {
				return invalid(k + ": give one trait value")
			}
			f.TraitKey, f.TraitValue = key, vals[0]
		}
	}
	limit, err := limitParam(c, 50)
	if err != nil {
		return err
	}
	if raw := q.Get("cursor"); raw != "" {
		cur, err := store.ParseProfileCursor(raw)
		if err != nil {
			return invalid("cursor: not a cursor this API gave")
		}
		f.After = &cur
	}
	f.Limit = min(limit, chunk)
	views, next, err := h.reads.profiles(ctx, ws, f)
	if err != nil {
		return err
	}
	// From here the answer is streamed: a failure can only cut it short.
	writeJSONStart(c)
	w := c.Response()
	enc := json.NewEncoder(w)
	_, _ = w.Write([]byte(`{"users":[`))
	n := 0
	for {
		for _, v := range views {
			if n > 0 {
				_, _ = w.Write([]byte{','})
			}
			if err := enc.Encode(v); err != nil {
				return fmt.Errorf("write profile: %w", err)
			}
			n++
		}
		if next == nil || n >= limit {
			break
		}
		f.After, f.Limit = next, min(limit-n, chunk)
		if views, next, err = h.reads.profiles(ctx, ws, f); err != nil {
			return fmt.Errorf("users list cut short after %d: %w", n, err)
		}
	}
	nextS := ""
	if next != nil {
		nextS = next.String()
	}
	return writeTail(w, nextS)
}

// writeTail ends a streamed list with its "next" cursor.
func writeTail(w *echo.Response, next string) error {
	b, _ := json.Marshal(next)
	_, err := w.Write(append(append([]byte(`],"next":`), b...), '}'))
	return err
}
