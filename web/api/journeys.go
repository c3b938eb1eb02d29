package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// journeyErr turns refusals into answers: a definition's fault is 422
// naming its path, a taken key 409, an unknown one 404.
func journeyErr(err error) error {
	var je *journeys.Error
	switch {
	case errors.As(err, &je):
		return (&apperr.Error{Code: apperr.Unprocessable, Msg: je.Error(), Err: err}).With("path", je.Path)
	case errors.Is(err, store.ErrConflict):
		return &apperr.Error{Code: apperr.Conflict, Msg: "a journey with this key exists: PUT /api/v1/journeys/{key} changes it", Err: err}
	case errors.Is(err, store.ErrNotFound):
		return &apperr.Error{Code: apperr.NotFound, Msg: "no journey has this key", Err: err}
	}
	return err
}

// journeyJSON is the stored definition with its version and times.
func journeyJSON(r store.JourneyRow) (map[string]any, error) {
	var out map[string]any
	if err := json.Unmarshal([]byte(r.Definition), &out); err != nil {
		return nil, fmt.Errorf("stored journey %q: %w", r.Key, err)
	}
	out["enabled"] = r.Enabled
	out["version"] = r.Version
	out["createdAt"] = r.CreatedAt
	out["updatedAt"] = r.UpdatedAt
	return out, nil
}

// readJourney reads and checks a definition body.
func (h *Handler) readJourney(c echo.Context) (*journeys.Definition, []byte, error) {
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, journeys.MaxDefinitionBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("read journey: %w", err)
	}
	if len(raw) > journeys.MaxDefinitionBytes {
		return nil, nil, apperr.Errorf(apperr.TooLarge, "the definition is over %d bytes", journeys.MaxDefinitionBytes)
	}
	d, err := journeys.Parse(raw)
	if err != nil {
		return nil, nil, journeyErr(err)
	}
	if err := journeys.Check(c.Request().Context(), h.Store, tokenOf(c).WorkspaceID, d); err != nil {
		return nil, nil, journeyErr(err)
	}
	// Stored as parsed (without enabled: that is the row's state).
	enabled := d.Enabled
	d.Enabled = false
	canon, err := json.Marshal(d)
	d.Enabled = enabled
	return d, canon, err
}

func (h *Handler) journeyChanged(c echo.Context) error {
	if err := journeys.Prime(c.Request().Context(), h.Store, tokenOf(c).WorkspaceID); err != nil {
		return err
	}
	if h.Journeys != nil {
		h.Journeys.Notify()
	}
	return nil
}

// JourneysList is GET /api/v1/journeys.
func (h *Handler) JourneysList(c echo.Context) error {
	rows, err := h.Store.Journeys(c.Request().Context(), tokenOf(c).WorkspaceID)
	if err != nil {
		return err
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		j, err := journeyJSON(r)
		if err != nil {
			return err
		}
		out = append(out, j)
	}
	return c.JSON(http.StatusOK, map[string]any{"journeys": out})
}

// JourneyCreate is POST /api/v1/journeys.
func (h *Handler) JourneyCreate(c echo.Context) error {
	d, canon, err := h.readJourney(c)
	if err != nil {
		return err
	}
	r, err := h.Store.CreateJourney(c.Request().Context(), tokenOf(c).WorkspaceID, d.Key, string(canon), d.Enabled)
	if err != nil {
		return journeyErr(err)
	}
	if err := h.journeyChanged(c); err != nil {
		return err
	}
	j, err := journeyJSON(r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, j)
}

// JourneyShow is GET /api/v1/journeys/:key.
func (h *Handler) JourneyShow(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	r, err := h.Store.Journey(c.Request().Context(), tokenOf(c).WorkspaceID, key)
	if err != nil {
		return journeyErr(err)
	}
	j, err := journeyJSON(r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// JourneyUpdate is PUT /api/v1/journeys/:key: a changed definition is a new
// version for new instances; enabled false holds the running ones.
func (h *Handler) JourneyUpdate(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	d, canon, err := h.readJourney(c)
	if err != nil {
		return err
	}
	if d.Key != key {
		return journeyErr(&journeys.Error{Path: "key", Msg: "a journey's key cannot change"})
	}
	r, err := h.Store.UpdateJourney(c.Request().Context(), tokenOf(c).WorkspaceID, key, string(canon), d.Enabled)
	if err != nil {
		return journeyErr(err)
	}
	if err := h.journeyChanged(c); err != nil {
		return err
	}
	j, err := journeyJSON(r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, j)
}

// JourneyDelete is DELETE /api/v1/journeys/:key.
func (h *Handler) JourneyDelete(c echo.Context) error {
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteJourney(c.Request().Context(), tokenOf(c).WorkspaceID, key); err != nil {
		return journeyErr(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// JourneyStats is GET /api/v1/journeys/:key/stats.
func (h *Handler) JourneyStats(c echo.Context) error {
	ctx := c.Request().Context()
	ws := tokenOf(c).WorkspaceID
	key, err := idParam(c, "key")
	if err != nil {
		return err
	}
	r, err := h.Store.Journey(ctx, ws, key)
	if err != nil {
		return journeyErr(err)
	}
	d, err := journeys.Parse([]byte(r.Definition))
	if err != nil {
		return fmt.Errorf("stored journey %q: %w", key, err)
	}
	st, err := h.Store.JourneyStats(ctx, ws, key)
	if err != nil {
		return err
	}
	// Every step of the tree in document order, with its path and depth so
	// a page can draw the nesting.
	steps := []map[string]any{}
	d.Walk(func(s *journeys.Step, path string, depth int) {
		steps = append(steps, map[string]any{"id": s.ID, "kind": s.Kind(), "path": path, "depth": depth,
			"waiting": st.AtStep[s.ID], "passed": st.Passed[s.ID], "sent": st.Sent[s.ID]})
	})
	return c.JSON(http.StatusOK, map[string]any{"entered": st.Entered, "active": st.Active, "completed": st.Completed,
		"exited": st.Exited, "atStep": st.AtStep, "passed": st.Passed, "steps": steps})
}

// MessagesList is GET /api/v1/messages?userId=&journey=&status=&cursor=&limit=.
func (h *Handler) MessagesList(c echo.Context) error {
	q := c.QueryParams()
	f := store.MessageFilter{UserID: q.Get("userId"), Journey: q.Get("journey"), Status: q.Get("status"), Limit: 100}
	for _, v := range []string{f.UserID, f.Journey, f.Status} {
		if !store.ValidSearchText(v) {
			return invalid("userId, journey, status: at most 1024 bytes of UTF-8")
		}
	}
	if f.Status != "" && f.Status != "queued" && f.Status != "sending" && f.Status != "sent" && f.Status != "skipped" && f.Status != "failed" && f.Status != "bounced" {
		return invalid("status: queued, sending, sent, skipped, failed or bounced")
	}
	if cur := q.Get("cursor"); cur != "" {
		n, err := strconv.ParseInt(cur, 10, 64)
		if err != nil || n < 1 {
			return invalid("cursor: the next of a previous page")
		}
		f.Before = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return invalid("limit: a whole number from 1 to 1000")
		}
		f.Limit = n
	}
	ms, err := h.Store.Messages(c.Request().Context(), tokenOf(c).WorkspaceID, f)
	if err != nil {
		return err
	}
	next := ""
	if len(ms) == f.Limit {
		next = strconv.FormatInt(ms[len(ms)-1].ID, 10)
	}
	if ms == nil {
		ms = []store.Message{}
	}
	return c.JSON(http.StatusOK, map[string]any{"messages": ms, "next": next})
}

// BouncesList is GET /api/v1/bounces: the addresses a hard bounce
// suppressed (nothing is sent to them).
func (h *Handler) BouncesList(c echo.Context) error {
	bs, err := h.Store.Bounces(c.Request().Context(), tokenOf(c).WorkspaceID, 1000)
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []store.Bounce{}
	}
	return c.JSON(http.StatusOK, map[string]any{"bounces": bs})
}

// BounceDelete is DELETE /api/v1/bounces/:address: email goes to it again.
func (h *Handler) BounceDelete(c echo.Context) error {
	addr, err := idParam(c, "address")
	if err != nil {
		return err
	}
	lifted, err := h.Store.LiftBounce(c.Request().Context(), tokenOf(c).WorkspaceID, addr)
	if err != nil {
		return err
	}
	if !lifted {
		return apperr.New(apperr.NotFound, "this address is not suppressed")
	}
	return c.NoContent(http.StatusNoContent)
}
