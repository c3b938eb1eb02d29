package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/pathparam"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// messagesShown is how many lines of the messages log a page shows.
const messagesShown = 50

func messageRows(ms []store.Message) []templates.MessageRow {
	out := make([]templates.MessageRow, len(ms))
	for i, m := range ms {
		out[i] = templates.MessageRow{ID: m.ID, UserID: m.UserID, To: m.To, Journey: m.JourneyKey, Step: m.StepID,
			Template: m.Template, Status: m.Status, Reason: m.Reason, Reply: m.Reply, At: m.At}
	}
	return out
}

func journeyRow(r store.JourneyRow, name string, st store.JourneyStats) templates.JourneyRow {
	return templates.JourneyRow{Key: r.Key, Name: name, Enabled: r.Enabled, Version: r.Version,
		Entered: st.Entered, Active: st.Active, Completed: st.Completed, Exited: st.Exited}
}

// JourneysList is GET /dashboard/journeys: each journey with its counts,
// and the messages log.
func (h *Handler) JourneysList(c echo.Context) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	lp, err := h.layoutProps(c, "Journeys", "journeys")
	if err != nil {
		return err
	}
	rows, err := h.Store.Journeys(ctx, ws.ID)
	if err != nil {
		return err
	}
	p := templates.JourneysProps{Layout: lp}
	for _, r := range rows {
		st, err := h.Store.JourneyStats(ctx, ws.ID, r.Key)
		if err != nil {
			return err
		}
		name := r.Key
		if d, err := journeys.Parse([]byte(r.Definition)); err == nil {
			name = d.Name
		}
		p.Journeys = append(p.Journeys, journeyRow(r, name, st))
	}
	ms, err := h.Store.Messages(ctx, ws.ID, store.MessageFilter{Journey: c.QueryParam("journey"), UserID: c.QueryParam("userId"),
		Status: c.QueryParam("status"), Limit: messagesShown})
	if err != nil {
		return err
	}
	p.Messages = messageRows(ms)
	return render.Page(c, http.StatusOK, templates.Journeys(p))
}

// JourneyShow is GET /dashboard/journeys/:key: its steps top to bottom,
// with how many wait at each now and how many each sent.
func (h *Handler) JourneyShow(c echo.Context) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	key, err := pathparam.Get(c, "key")
	if err != nil {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such journey.", Err: err}
	}
	r, err := h.Store.Journey(ctx, ws.ID, key)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such journey.", Err: err}
	}
	if err != nil {
		return err
	}
	d, err := journeys.Parse([]byte(r.Definition))
	if err != nil {
		return fmt.Errorf("stored journey %q: %w", key, err)
	}
	st, err := h.Store.JourneyStats(ctx, ws.ID, key)
	if err != nil {
		return err
	}
	lp, err := h.layoutProps(c, d.Name, "journeys")
	if err != nil {
		return err
	}
	p := templates.JourneyProps{Layout: lp, Journey: journeyRow(r, d.Name, st)}
	if d.Trigger.Event != nil {
		p.Trigger = "the event " + d.Trigger.Event.Event + " (reentry " + d.Reentry + ")"
	}
	for _, s := range d.Steps {
		row := templates.StepRow{ID: s.ID, Waiting: st.AtStep[s.ID], Sent: st.Sent[s.ID]}
		switch {
		case s.Wait != nil:
			w, _ := s.Wait.MarshalJSON()
			row.Kind, row.Detail = "wait", string(w)
		case s.Email != nil:
			row.Kind, row.Detail = "email", "template "+s.Email.Template
			if s.Email.Group != "" {
				row.Detail += ", group " + s.Email.Group
			}
			row.Waiting = 0
		}
		p.Steps = append(p.Steps, row)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, []byte(r.Definition), "", "  ") == nil {
		p.Definition = pretty.String()
	}
	ms, err := h.Store.Messages(ctx, ws.ID, store.MessageFilter{Journey: key, Limit: messagesShown})
	if err != nil {
		return err
	}
	p.Messages = messageRows(ms)
	return render.Page(c, http.StatusOK, templates.Journey(p))
}

// fillMessaging adds the user's journeys (at which step, since when) and
// messages to their profile page.
func (h *Handler) fillMessaging(ctx context.Context, ws uuid.UUID, userID string, p *templates.UserProps) error {
	ins, err := h.Store.UserJourneys(ctx, ws, userID, 20)
	if err != nil {
		return err
	}
	defs := map[string]*journeys.Definition{}
	for _, in := range ins {
		k := fmt.Sprintf("%s\x00%d", in.JourneyKey, in.Version)
		d, ok := defs[k]
		if !ok {
			if raw, err := h.Store.JourneyVersion(ctx, ws, in.JourneyKey, in.Version); err == nil {
				d, _ = journeys.Parse([]byte(raw))
			}
			defs[k] = d
		}
		step := in.StepID // instances are placed by step id (steps nest)
		if step == "" || d == nil {
			step = "start"
		}
		p.Journeys = append(p.Journeys, templates.UserJourneyRow{Journey: in.JourneyKey, Step: step, Status: in.Status, Since: in.UpdatedAt})
	}
	ms, err := h.Store.Messages(ctx, ws, store.MessageFilter{UserID: userID, Limit: 20})
	if err != nil {
		return err
	}
	p.Messages = messageRows(ms)
	return nil
}
