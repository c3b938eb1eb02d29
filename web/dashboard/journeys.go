package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

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

var errNoJourney = apperr.New(apperr.NotFound, "No journey has this key.")

// JourneysList is GET /dashboard/journeys: each journey with its state and
// counts.
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
	p := templates.JourneysProps{Layout: lp, WorkspaceID: ws.ID.String()}
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
	return render.Page(c, http.StatusOK, templates.Journeys(p))
}

// loadJourney reads the journey named by the path's key with its parsed
// definition.
func (h *Handler) loadJourney(c echo.Context, ws uuid.UUID) (store.JourneyRow, *journeys.Definition, error) {
	key, err := pathparam.Get(c, "key")
	if err != nil {
		return store.JourneyRow{}, nil, errNoJourney
	}
	r, err := h.Store.Journey(c.Request().Context(), ws, key)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil, errNoJourney
	}
	if err != nil {
		return r, nil, err
	}
	d, err := journeys.Parse([]byte(r.Definition))
	if err != nil {
		return r, nil, fmt.Errorf("stored journey %q: %w", key, err)
	}
	return r, d, nil
}

// JourneyShow is GET /dashboard/journeys/:key: its step tree top to
// bottom, with how many wait at each step now and how many passed it.
func (h *Handler) JourneyShow(c echo.Context) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	r, d, err := h.loadJourney(c, ws.ID)
	if err != nil {
		return err
	}
	st, err := h.Store.JourneyStats(ctx, ws.ID, r.Key)
	if err != nil {
		return err
	}
	lp, err := h.layoutProps(c, d.Name, "journeys")
	if err != nil {
		return err
	}
	p := templates.JourneyProps{Layout: lp, WorkspaceID: ws.ID.String(), Journey: journeyRow(r, d.Name, st),
		Trigger: describeTrigger(d), Steps: stepNodes(d.Steps, st)}
	if d.ExitOn != nil && d.ExitOn.Event != nil {
		p.ExitOn = describeEvent(d.ExitOn.Event)
	}
	p.Definition = editorText(r)
	ms, err := h.Store.Messages(ctx, ws.ID, store.MessageFilter{Journey: r.Key, Limit: 20})
	if err != nil {
		return err
	}
	p.Messages = messageRows(ms)
	return render.Page(c, http.StatusOK, templates.Journey(p))
}

// journeyStatsReply is GET /dashboard/journeys/:key/stats.json, the
// journey page's poll.
type journeyStatsReply struct {
	Enabled   bool             `json:"enabled"`
	Entered   int64            `json:"entered"`
	Active    int64            `json:"active"`
	Completed int64            `json:"completed"`
	Exited    int64            `json:"exited"`
	Waiting   map[string]int64 `json:"waiting"` // step id → waiting there now
	Passed    map[string]int64 `json:"passed"`
	Sent      map[string]int64 `json:"sent"`
}

// JourneyStatsJSON is GET /dashboard/journeys/:key/stats.json: the counts
// the journey page shows, so it refreshes them without a reload.
func (h *Handler) JourneyStatsJSON(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	r, _, err := h.loadJourney(c, ws.ID)
	if err != nil {
		return err
	}
	st, err := h.Store.JourneyStats(c.Request().Context(), ws.ID, r.Key)
	if err != nil {
		return err
	}
	out := journeyStatsReply{Enabled: r.Enabled, Entered: st.Entered, Active: st.Active, Completed: st.Completed, Exited: st.Exited,
		Waiting: st.AtStep, Passed: st.Passed, Sent: st.Sent}
	for _, m := range []*map[string]int64{&out.Waiting, &out.Passed, &out.Sent} {
		if *m == nil {
			*m = map[string]int64{}
		}
	}
	return c.JSON(http.StatusOK, out)
}

// stepNodes is the tree the journey page draws, with each step's counts.
func stepNodes(steps []*journeys.Step, st store.JourneyStats) []templates.StepNode {
	out := make([]templates.StepNode, 0, len(steps))
	for _, s := range steps {
		n := templates.StepNode{ID: s.ID, Kind: s.Kind(), Detail: describeStep(s),
			Waiting: st.AtStep[s.ID], Passed: st.Passed[s.ID], Sent: st.Sent[s.ID]}
		for _, l := range s.Lists() {
			n.Lists = append(n.Lists, templates.StepList{Name: listLabel(l.Name), Steps: stepNodes(l.Steps, st)})
		}
		out = append(out, n)
	}
	return out
}

func listLabel(name string) string {
	switch name {
	case "branch.then":
		return "then (the condition holds)"
	case "branch.else":
		return "else"
	case "waitFor.then":
		return "then (it happened)"
	case "waitFor.onTimeout":
		return "on timeout"
	}
	return name
}

// describeStep says in a few words what a step does.
func describeStep(s *journeys.Step) string {
	switch {
	case s.Wait != nil:
		if s.Wait.Until != "" {
			return "until the time in the trait " + s.Wait.Until
		}
		b, _ := s.Wait.MarshalJSON()
		return "for " + strings.Trim(string(b), `"`)
	case s.Email != nil:
		out := "template " + s.Email.Template
		if s.Email.Group != "" {
			out += ", group " + s.Email.Group
		} else {
			out += " (transactional)"
		}
		if s.Email.Trait != "" {
			out += ", to the trait " + s.Email.Trait
		}
		return out
	case s.WaitFor != nil:
		out := ""
		if s.WaitFor.Event != nil {
			out = describeEvent(s.WaitFor.Event)
		} else {
			out = "entering the audience " + s.WaitFor.Audience
		}
		return out + ", at most " + s.WaitFor.Timeout
	case s.Branch != nil:
		b, _ := json.Marshal(s.Branch.If)
		return "if " + clip(string(b), 160)
	case s.Webhook != nil:
		return "POST through the destination " + s.Webhook.Destination
	}
	return ""
}

func describeEvent(m *journeys.EventMatch) string {
	out := "the event " + m.Event
	if len(m.Where) > 0 && string(m.Where) != "null" {
		out += " where " + clip(string(m.Where), 120)
	}
	if len(m.Match) > 0 {
		out += " (same " + strings.Join(m.Match, ", ") + " as the trigger)"
	}
	return out
}

func describeTrigger(d *journeys.Definition) string {
	out := ""
	switch {
	case d.Trigger.Event != nil:
		out = describeEvent(d.Trigger.Event)
	case d.Trigger.AudienceEntered != "":
		out = "entering the audience " + d.Trigger.AudienceEntered
	case d.Trigger.Broadcast != "":
		out = "a broadcast to everyone in the audience " + d.Trigger.Broadcast + ", once, when enabled"
	}
	if d.Reentry == "always" {
		return out + "; a user may enter again"
	}
	return out + "; at most once per user"
}

// clip shortens s to at most n bytes and an ellipsis, never cutting a
// character in two.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// fillMessaging adds the user's journeys (at which step, since when) and
// messages to their profile page.
func (h *Handler) fillMessaging(ctx context.Context, ws uuid.UUID, userID string, p *templates.UserProps) error {
	ins, err := h.Store.UserJourneyInstances(ctx, ws, userID, 20)
	if err != nil {
		return err
	}
	for _, in := range ins {
		step := in.StepID
		if step == "" {
			step = "start"
		}
		p.Journeys = append(p.Journeys, templates.UserJourneyRow{Journey: in.Journey, Step: step, Status: in.Status,
			Since: in.Since, EnteredAt: in.EnteredAt, Version: in.Version})
	}
	ms, err := h.Store.Messages(ctx, ws, store.MessageFilter{UserID: userID, Limit: 20})
	if err != nil {
		return err
	}
	p.Messages = messageRows(ms)
	p.MessagesUserID = userID
	return nil
}
