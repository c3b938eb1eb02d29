package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
)

// Destinations is what the destination pages use beside the store.
type Destinations struct {
	Sender *delivery.Sender   // sends "send test event"
	Guard  *delivery.NetGuard // checks URLs as they are typed
	Policy delivery.Policy    // the retry schedule, shown on each page
}

func destinationsURL() string { return "/dashboard/destinations" }

func destinationView(d store.Destination) templates.DestinationView {
	return templates.DestinationView{ID: d.ID.String(), Name: d.Name, URL: d.URL, Types: d.Types, Paused: d.Paused,
		Reason: d.PausedReason, Delivered: d.Delivered, Failed: d.Failed, CreatedAt: d.CreatedAt, ErasureNotice: d.ErasureNotice, SkipAudienceEvents: d.SkipAudienceEvents}
}

// renderDestinations renders the list page; edit fills in a form's state.
func (h *Handler) renderDestinations(c echo.Context, status int, edit func(*templates.DestinationsProps)) error {
	lp, err := h.layoutProps(c, "Destinations", "destinations")
	if err != nil {
		return err
	}
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	ds, err := h.Store.Destinations(c.Request().Context(), ws.ID)
	if err != nil {
		return fmt.Errorf("list destinations: %w", err)
	}
	p := templates.DestinationsProps{Layout: lp, WorkspaceID: ws.ID.String(), EventTypes: delivery.EventTypes, Errors: map[string]string{}}
	for _, d := range ds {
		p.Destinations = append(p.Destinations, destinationView(d))
	}
	if edit != nil {
		edit(&p)
	}
	return render.Page(c, status, templates.Destinations(p))
}

// DestinationsList is GET /dashboard/destinations.
func (h *Handler) DestinationsList(c echo.Context) error {
	return h.renderDestinations(c, http.StatusOK, nil)
}

// DestinationCreate adds a destination and shows its signing secret in the
// page it answers with, once (like a new write key: never kept anywhere to
// survive a redirect).
func (h *Handler) DestinationCreate(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	form, _ := c.FormParams()
	types := form["types"]
	in := delivery.Input{Name: c.FormValue("name"), URL: c.FormValue("url"), Types: strings.Join(types, ","),
		ErasureNotice: c.FormValue("erasure_notice") == "yes"}
	d, err := delivery.Create(c.Request().Context(), h.Store, h.Destinations.Guard, ws.ID, in)
	var invalid *delivery.InvalidError
	if errors.As(err, &invalid) {
		return h.renderDestinations(c, http.StatusUnprocessableEntity, func(p *templates.DestinationsProps) {
			p.Name, p.URL, p.Types, p.Notice = in.Name, in.URL, types, in.ErasureNotice
			p.Errors[invalid.Field] = invalid.Msg
		})
	}
	if err != nil {
		return fmt.Errorf("create destination: %w", err)
	}
	admin, _ := h.admin(c)
	logger(c).Info("destination created", "workspace", ws.ID, "destination", d.ID, "admin", admin.Email)
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.renderDestinations(c, http.StatusOK, func(p *templates.DestinationsProps) {
		p.NewSecret, p.NewID = d.Secret, d.ID.String()
	})
}

// destinationOf loads the destination named in the path, in the workspace
// the form (POST) or the admin's current workspace (GET) names.
func (h *Handler) destinationOf(c echo.Context) (store.Workspace, store.Destination, error) {
	var ws store.Workspace
	var err error
	if c.Request().Method == http.MethodPost {
		ws, err = h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
		if err == nil {
			c.Set(ctxWorkspace, ws)
		}
	} else {
		ws, err = h.currentWorkspace(c)
	}
	if err != nil {
		return ws, store.Destination{}, err
	}
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return ws, store.Destination{}, &apperr.Error{Code: apperr.NotFound, Msg: "No such destination.", Err: err}
	}
	d, err := h.Store.Destination(c.Request().Context(), ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return ws, d, &apperr.Error{Code: apperr.NotFound, Msg: "No such destination in this workspace.", Err: err}
	}
	return ws, d, err
}

func scheduleText(p delivery.Policy) string {
	s := p.Schedule
	if len(s) == 0 {
		s = delivery.DefaultSchedule
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return strings.Join(parts, ", ") + " (the last repeats)"
}

// renderDestination renders one destination's page.
func (h *Handler) renderDestination(c echo.Context, status int, d store.Destination, edit func(*templates.DestinationProps)) error {
	lp, err := h.layoutProps(c, d.Name, "destinations")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	stats, err := h.Store.DestinationStats(ctx, d)
	if err != nil {
		return err
	}
	atts, err := h.Store.DestinationAttempts(ctx, d.ID, 50)
	if err != nil {
		return err
	}
	retryFor := h.Destinations.Policy.RetryFor
	if retryFor == 0 {
		retryFor = 24 * time.Hour
	}
	p := templates.DestinationProps{Layout: lp, WorkspaceID: d.WorkspaceID.String(), D: destinationView(d),
		Retrying: stats.Retrying, FailedNow: stats.Failed, Schedule: scheduleText(h.Destinations.Policy), RetryFor: retryFor.String()}
	if stats.OldestUndelivered != nil {
		p.Lag = time.Since(*stats.OldestUndelivered).Round(time.Second).String()
	}
	if d.PreviousSecret != "" && d.PreviousExpiresAt != nil && time.Now().Before(*d.PreviousExpiresAt) {
		p.Rotating, p.RotatingTil = true, *d.PreviousExpiresAt
	}
	if c := d.Circuit; c.Open() {
		p.Circuit = templates.CircuitView{Open: true, Since: *c.OpenSince, Probes: c.Probes, Reason: c.Reason}
		if c.NextProbe != nil {
			p.Circuit.NextProbe = *c.NextProbe
		}
	}
	for _, a := range atts {
		p.Attempts = append(p.Attempts, templates.DestinationAttemptView{At: a.At, MessageID: a.MessageID, WebhookID: a.WebhookID,
			Attempt: a.Attempt, Status: a.Status, Latency: a.Latency, Outcome: a.Outcome, Reason: a.Reason, Response: a.Response})
	}
	if edit != nil {
		edit(&p)
	}
	return render.Page(c, status, templates.Destination(p))
}

// DestinationShow is GET /dashboard/destinations/:id.
func (h *Handler) DestinationShow(c echo.Context) error {
	_, d, err := h.destinationOf(c)
	if err != nil {
		return err
	}
	return h.renderDestination(c, http.StatusOK, d, nil)
}

// DestinationAction is POST /dashboard/destinations/:id/:action: pause,
// resume, test, retry, rotate, replay, delete, erasure-notice-on or -off.
func (h *Handler) DestinationAction(c echo.Context) error {
	ws, d, err := h.destinationOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	back := func(kind, msg string) error {
		h.flash(c, kind, msg)
		return c.Redirect(http.StatusSeeOther, "/dashboard/destinations/"+d.ID.String())
	}
	switch c.Param("action") {
	case "pause":
		if err := h.Store.SetDestinationPaused(ctx, ws.ID, d.ID, true, "Paused from the dashboard."); err != nil {
			return err
		}
		return back("success", "Paused. Events keep being stored; resuming sends them from where it stopped.")
	case "audience-events-off", "audience-events-on":
		off := c.Param("action") == "audience-events-off"
		if err := h.Store.SetDestinationAudienceEvents(ctx, ws.ID, d.ID, off); err != nil {
			return err
		}
		if off {
			return back("success", "Audience Entered/Exited events are no longer sent to this destination.")
		}
		return back("success", "Audience Entered/Exited events are sent to this destination again.")
	case "resume":
		if err := h.Store.SetDestinationPaused(ctx, ws.ID, d.ID, false, ""); err != nil {
			return err
		}
		return back("success", "Resumed: delivery carries on from where it stopped within a few seconds.")
	case "retry":
		n, err := h.Store.RetryDestinationNow(ctx, d)
		if err != nil {
			return err
		}
		return back("success", fmt.Sprintf("%d waiting or failed deliveries will be sent again now.", n))
	case "test":
		r, err := h.Destinations.Sender.SendTest(ctx, h.Store, d)
		if err != nil {
			return err
		}
		if r.OK() {
			return back("success", fmt.Sprintf("Test event delivered: HTTP %d in %s.", r.Status, r.Latency.Round(time.Millisecond)))
		}
		return back("error", "Test event not delivered: "+r.Reason())
	case "rotate":
		secret, err := delivery.Rotate(ctx, h.Store, ws.ID, d.ID, h.SecretGrace)
		if err != nil {
			return err
		}
		logger(c).Info("destination secret rotated", "destination", d.ID)
		d, err = h.Store.Destination(ctx, ws.ID, d.ID)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-store")
		return h.renderDestination(c, http.StatusOK, d, func(p *templates.DestinationProps) { p.NewSecret = secret })
	case "replay":
		return h.destinationReplay(c, d)
	case "delete":
		if c.FormValue("confirm") != "yes" {
			return h.renderDestination(c, http.StatusUnprocessableEntity, d, func(p *templates.DestinationProps) {
				p.DeleteError = "Tick the box to confirm: the destination and its waiting deliveries are dropped for good."
			})
		}
		// The row's foreign keys take its retries and attempts along; the
		// worker that held it stops at its next lease renewal or write.
		if err := h.Store.DeleteDestination(ctx, ws.ID, d.ID); err != nil {
			return err
		}
		logger(c).Info("destination deleted", "destination", d.ID)
		h.flash(c, "success", fmt.Sprintf("Destination “%s” deleted; nothing more is sent to %s.", d.Name, d.URL))
		return c.Redirect(http.StatusSeeOther, "/dashboard/destinations")
	case "erasure-notice-on", "erasure-notice-off":
		on := c.Param("action") == "erasure-notice-on"
		if err := h.Store.SetDestinationErasureNotice(ctx, ws.ID, d.ID, on); err != nil {
			return err
		}
		if on {
			return back("success", "Erasure notices on: this destination is told about every erasure from now on.")
		}
		return back("success", "Erasure notices off.")
	}
	return apperr.New(apperr.NotFound, "No such action.")
}

// destinationReplay queues the events of a time range, or of the events
// page's filter (type, event, user, from, to), to be sent again.
func (h *Handler) destinationReplay(c echo.Context, d store.Destination) error {
	f := eventsForm{Type: strings.TrimSpace(c.FormValue("type")), Event: strings.TrimSpace(c.FormValue("event")),
		User: strings.TrimSpace(c.FormValue("user")), From: strings.TrimSpace(c.FormValue("from")), To: strings.TrimSpace(c.FormValue("to"))}
	errs := f.Validate()
	msg := ""
	for _, k := range []string{"type", "event", "user", "from", "to"} {
		if errs[k] != "" {
			msg = k + ": " + errs[k]
			break
		}
	}
	if msg == "" && f.From == "" && f.To == "" && !f.filtered() {
		msg = "Give a time range (or replay from the events page with a filter)."
	}
	if msg != "" {
		return h.renderDestination(c, http.StatusUnprocessableEntity, d, func(p *templates.DestinationProps) {
			p.ReplayFrom, p.ReplayTo, p.ReplayError = f.From, f.To, msg
		})
	}
	n, err := h.Store.ReplayDestination(c.Request().Context(), d, store.EventFilter{Type: f.Type, Event: f.Event, User: f.User, From: f.from, To: f.to})
	if err != nil {
		return err
	}
	h.flash(c, "success", fmt.Sprintf("%d events queued to be sent again (same webhook-id).", n))
	return c.Redirect(http.StatusSeeOther, "/dashboard/destinations/"+d.ID.String())
}
