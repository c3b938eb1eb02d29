package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
)

// EventsReplay is POST /dashboard/events/replay: the events page's "Replay
// to a destination". Without confirm=yes it answers a page stating how many
// events of the filter would go to the chosen destination; with it (and the
// the count that page showed) it queues them and goes to the destination's
// page, whose message says how many were queued (more when events of the
// filter arrived meanwhile).
func (h *Handler) EventsReplay(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	get := func(k string) string { return strings.TrimSpace(c.FormValue(k)) }
	form := eventsForm{Type: get("type"), Event: get("event"), User: get("user"), From: get("from"), To: get("to")}
	if errs := form.Validate(); len(errs) > 0 {
		return apperr.New(apperr.Invalid, "The filter is not valid; fix it on the events page first.")
	}
	id, err := uuid.Parse(get("destination"))
	if err != nil {
		return apperr.New(apperr.Invalid, "Choose a destination.")
	}
	d, err := h.Store.Destination(ctx, ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return &apperr.Error{Code: apperr.NotFound, Msg: "No such destination in this workspace.", Err: err}
	}
	if err != nil {
		return err
	}
	f := store.EventFilter{WorkspaceID: ws.ID, Type: form.Type, Event: form.Event, User: form.User, From: form.from, To: form.to}
	n, err := h.Store.CountReplay(ctx, d, f)
	if err != nil {
		return err
	}
	back := templ.SafeURL("/dashboard/events")
	if v := form.values(); len(v) > 0 {
		back = templ.SafeURL("/dashboard/events?" + v.Encode())
	}
	if get("confirm") != "yes" {
		lp, err := h.layoutProps(c, "Replay to "+d.Name, "events")
		if err != nil {
			return err
		}
		return render.Page(c, http.StatusOK, templates.EventsReplayConfirm(templates.EventsReplayConfirmProps{
			Layout: lp, WorkspaceID: ws.ID.String(), DestinationID: d.ID.String(), Destination: d.Name, Count: n,
			Filter:     templates.EventsFilter{Type: form.Type, Event: form.Event, User: form.User, From: form.From, To: form.To},
			FilterText: filterText(form), BackURL: back,
		}))
	}
	queued, err := h.Store.ReplayDestination(ctx, d, f)
	if err != nil {
		return err
	}
	logger(c).Info("events replayed to a destination", "destination", d.ID, "events", queued)
	msg := fmt.Sprintf("%d events queued to be sent again to %s (same webhook-id).", queued, d.Name)
	if shown := get("count"); shown != "" && shown != fmt.Sprint(queued) {
		msg += fmt.Sprintf(" The confirmation said %s: events of the filter arrived or were deleted meanwhile.", shown)
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, "/dashboard/destinations/"+d.ID.String())
}

// filterText says the events page's filter in words.
func filterText(f eventsForm) string {
	var parts []string
	for _, p := range [][2]string{{"type", f.Type}, {"event", f.Event}, {"user", f.User}, {"from", f.From}, {"before", f.To}} {
		if p[1] != "" {
			parts = append(parts, p[0]+" "+p[1])
		}
	}
	if len(parts) == 0 {
		return "every stored event"
	}
	return strings.Join(parts, ", ")
}
