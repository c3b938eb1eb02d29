package api

import (
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// groupBody is what POST and PUT /api/v1/subscription-groups take.
type groupBody struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	OptIn bool   `json:"optIn"`
}

func (b groupBody) check() error {
	if err := checkKey("key", b.Key); err != nil {
		return err
	}
	if b.Name == "" || len(b.Name) > 200 || !utf8.ValidString(b.Name) {
		return apperr.New(apperr.Unprocessable, "name: 1 to 200 bytes of UTF-8")
	}
	return nil
}

func groupNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "no subscription group has this key", Err: err}
	}
	return err
}

// GroupsList is GET /api/v1/subscription-groups.
func (h *Handler) GroupsList(c echo.Context) error {
	gs, err := h.Store.SubscriptionGroups(c.Request().Context(), tokenOf(c).WorkspaceID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"groups": gs})
}

// GroupCreate is POST /api/v1/subscription-groups.
func (h *Handler) GroupCreate(c echo.Context) error {
	var b groupBody
	if err := readJSON(c, 8<<10, &b); err != nil {
		return err
	}
	if err := b.check(); err != nil {
		return err
	}
	g, err := h.Store.CreateSubscriptionGroup(c.Request().Context(), tokenOf(c).WorkspaceID,
		store.SubscriptionGroup{Key: b.Key, Name: b.Name, OptIn: b.OptIn})
	if errors.Is(err, store.ErrConflict) {
		return &apperr.Error{Code: apperr.Conflict, Msg: "a subscription group with this key exists: PUT /api/v1/subscription-groups/{key} changes it", Err: err}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, g)
}

// GroupShow is GET /api/v1/subscription-groups/:key.
func (h *Handler) GroupShow(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	g, err := h.Store.SubscriptionGroup(c.Request().Context(), tokenOf(c).WorkspaceID, key)
	if err != nil {
		return groupNotFound(err)
	}
	return c.JSON(http.StatusOK, g)
}

// GroupUpdate is PUT /api/v1/subscription-groups/:key.
func (h *Handler) GroupUpdate(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	var b groupBody
	if err := readJSON(c, 8<<10, &b); err != nil {
		return err
	}
	if b.Key != "" && b.Key != key {
		return apperr.New(apperr.Unprocessable, "key: a group's key cannot change")
	}
	b.Key = key
	if err := b.check(); err != nil {
		return err
	}
	g, err := h.Store.UpdateSubscriptionGroup(c.Request().Context(), tokenOf(c).WorkspaceID,
		store.SubscriptionGroup{Key: b.Key, Name: b.Name, OptIn: b.OptIn})
	if err != nil {
		return groupNotFound(err)
	}
	return c.JSON(http.StatusOK, g)
}

// GroupDelete is DELETE /api/v1/subscription-groups/:key. Users' choices
// are kept: a group made again with this key still honours them.
func (h *Handler) GroupDelete(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteSubscriptionGroup(c.Request().Context(), tokenOf(c).WorkspaceID, key); err != nil {
		return groupNotFound(err)
	}
	return c.NoContent(http.StatusNoContent)
}
