package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/export"
	"github.com/inlet-dev/inlet/internal/jsonview"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// maxFilterText bounds the text filters; no event name or id is longer
// than Segment's own limits, and the value goes into an index lookup.
const maxFilterText = 200

// eventsForm is the filter form of /dashboard/events, read from the query.
type eventsForm struct {
	Type, Event, User, From, To string
	Before, After               string

	from, to      time.Time
	before, after *store.EventCursor
}

func newEventsForm(c echo.Context) eventsForm {
	q := c.QueryParams()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	return eventsForm{Type: get("type"), Event: get("event"), User: get("user"), From: get("from"), To: get("to"),
		Before: get("before"), After: get("after")}
}

// Validate checks every field and explains each problem by field name.
func (f *eventsForm) Validate() map[string]string {
	errs := map[string]string{}
	if f.Type != "" && !segment.ValidType(f.Type) {
		errs["type"] = "Choose one of the listed types."
	}
	for field, v := range map[string]string{"event": f.Event, "user": f.User} {
		switch {
		case len(v) > maxFilterText:
			errs[field] = fmt.Sprintf("Too long: at most %d characters.", maxFilterText)
		case !store.ValidSearchText(v):
			errs[field] = "Contains characters no stored value can have."
		}
	}
	var ok bool
	if f.from, ok = parseLocalTime(f.From); !ok {
		errs["from"] = "Enter a date and time like 2026-05-06T14:30 (UTC)."
	}
	if f.to, ok = parseLocalTime(f.To); !ok {
		errs["to"] = "Enter a date and time like 2026-05-06T15:00 (UTC)."
	}
	if errs["from"] == "" && errs["to"] == "" && !f.from.IsZero() && !f.to.IsZero() && !f.to.After(f.from) {
		errs["to"] = "Must be later than the start time."
	}
	pageErr := "This page link is not valid. Start again from the newest events."
	if f.Before != "" && f.After != "" {
		errs["page"] = pageErr
	}
	for raw, dst := range map[string]**store.EventCursor{f.Before: &f.before, f.After: &f.after} {
		if raw == "" {
			continue
		}
		c, err := store.ParseEventCursor(raw)
		if err != nil {
			errs["page"] = pageErr
			continue
		}
		*dst = &c
	}
	return errs
}

// parseLocalTime reads an <input type="datetime-local"> value as UTC; the
// page says so. Empty is fine (no bound).
func parseLocalTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil && t.Year() >= 1970 && t.Year() < 2200 {
			return t, true
		}
	}
	return time.Time{}, false
}

func (f *eventsForm) filtered() bool {
	return f.Type != "" || f.Event != "" || f.User != "" || f.From != "" || f.To != ""
}

// values are the filters as typed, for links that keep them.
func (f *eventsForm) values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"type": f.Type, "event": f.Event, "user": f.User, "from": f.From, "to": f.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// pageURL links to a neighbouring page under the same filters.
func (f *eventsForm) pageURL(param string, c store.EventCursor) templ.SafeURL {
	v := f.values()
	v.Set(param, c.String())
	return templ.SafeURL("/dashboard/events?" + v.Encode())
}

// exportURL is the Export link: the same filter, as NDJSON.
func (f *eventsForm) exportURL() templ.SafeURL {
	v := f.values()
	if len(v) == 0 {
		return "/dashboard/events/export"
	}
	return templ.SafeURL("/dashboard/events/export?" + v.Encode())
}

// EventsExport is GET /dashboard/events/export: every event matching the
// events page's filter as NDJSON, streamed in constant memory (the same
// stream as GET /api/v1/events/export, for a signed-in admin).
func (h *Handler) EventsExport(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	form := newEventsForm(c)
	form.Before, form.After = "", ""
	if errs := form.Validate(); len(errs) > 0 {
		fields := make([]string, 0, len(errs))
		for field := range errs {
			fields = append(fields, field)
		}
		slices.Sort(fields)
		return apperr.New(apperr.Invalid, "Export: "+fields[0]+": "+errs[fields[0]]+" Fix the filter on the events page.")
	}
	f := store.EventFilter{WorkspaceID: ws.ID, Type: form.Type, Event: form.Event, User: form.User, From: form.from, To: form.to}
	admin, _ := h.admin(c)
	logger(c).Info("events export", "workspace", ws.ID, "admin", admin.Email)
	if err := export.Serve(c.Response(), c.Request(), h.Store, f, "events.ndjson"); err != nil {
		logger(c).Warn("events export cut short", "workspace", ws.ID, "err", err)
	}
	return nil
}

// filterURL links to the first page with field set to val, the other
// filters kept: a user id in a row filters by that user.
func (f *eventsForm) filterURL(field, val string) templ.SafeURL {
	v := f.values()
	v.Set(field, val)
	return templ.SafeURL("/dashboard/events?" + v.Encode())
}

// keyLabels names ws's write keys (revoked ones too) by name and prefix,
// by id: pages never show a key's internal id.
func (h *Handler) keyLabels(ctx context.Context, ws uuid.UUID) (map[string]string, error) {
	keys, err := h.Store.WriteKeys(ctx, ws)
	if err != nil {
		return nil, fmt.Errorf("write keys of %s: %w", ws, err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[k.ID.String()] = status.KeyLabel(k.Name, k.Prefix)
	}
	return out, nil
}

// sourceLabel names where an event or a delivery came from, for people.
func sourceLabel(source, key string) string {
	switch source {
	case status.SourceWebhook:
		return "Segment webhook"
	case status.SourceHTTPAPI:
		if key == "" {
			return "HTTP API"
		}
		return "HTTP API · " + key
	}
	return source
}

// EventsList is GET /dashboard/events.
func (h *Handler) EventsList(c echo.Context) error {
	lp, err := h.layoutProps(c, "Events", "events")
	if err != nil {
		return err
	}
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	form := newEventsForm(c)
	props := templates.EventsProps{
		Layout:   lp,
		Filter:   templates.EventsFilter{Type: form.Type, Event: form.Event, User: form.User, From: form.From, To: form.To},
		Types:    segment.Types,
		Errors:   form.Validate(),
		Filtered: form.filtered(),
	}
	if len(props.Errors) > 0 {
		return render.Page(c, http.StatusBadRequest, templates.Events(props))
	}
	ctx := c.Request().Context()
	filter := store.EventFilter{
		WorkspaceID: ws.ID, Type: form.Type, Event: form.Event, User: form.User,
		From: form.from, To: form.to, Before: form.before, After: form.after,
	}
	page, err := h.Store.ListEvents(ctx, filter)
	if err != nil {
		return fmt.Errorf("list events of %s: %w", ws.ID, err)
	}
	// Exact up to store.EventCountCap, "10,000+" beyond: the count reads at
	// most that many index entries, so it costs about what a page does.
	if props.Count, props.CountMore, err = h.Store.CountMatchingEvents(ctx, filter, store.EventCountCap); err != nil {
		return fmt.Errorf("count events of %s: %w", ws.ID, err)
	}
	keys, err := h.keyLabels(ctx, ws.ID)
	if err != nil {
		return err
	}
	for _, e := range page.Events {
		r := eventRow(e, keys)
		r.WorkspaceID = ws.ID.String()
		if e.UserID != "" {
			r.UserURL = form.filterURL("user", e.UserID)
		}
		if e.AnonymousID != "" {
			r.AnonymousURL = form.filterURL("user", e.AnonymousID)
		}
		props.Events = append(props.Events, r)
	}
	if page.Older != nil {
		props.OlderURL = form.pageURL("before", *page.Older)
	}
	if page.Newer != nil {
		props.NewerURL = form.pageURL("after", *page.Newer)
	}
	props.ExportURL = form.exportURL()
	props.WorkspaceID = ws.ID.String()
	ds, err := h.Store.Destinations(ctx, ws.ID)
	if err != nil {
		return err
	}
	for _, d := range ds {
		props.Destinations = append(props.Destinations, templates.ReplayDestinationOption{ID: d.ID.String(), Name: d.Name})
	}
	return render.Page(c, http.StatusOK, templates.Events(props))
}

func eventRow(e store.ListedEvent, keys map[string]string) templates.EventRow {
	key := ""
	if e.SourceKey != "" {
		key = keys[e.SourceKey]
		if key == "" {
			key = "a deleted write key"
		}
	}
	r := templates.EventRow{ID: fmt.Sprint(e.ID), MessageID: e.MessageID, ReceivedAt: e.ReceivedAt, Type: e.Type,
		Event: e.Event, UserID: e.UserID, AnonymousID: e.AnonymousID, Source: sourceLabel(e.Source, key),
		Test: store.IsTestEvent(e.MessageID)}
	// Bounded: an event nested thousands deep made json.Indent write
	// hundreds of megabytes per view. Deeper parts are shown as stored, and
	// past the size limit the page links to the exact JSON instead.
	r.RawJSON, r.RawTruncated = jsonview.Indent(e.Raw, rawShownDepth, rawShownBytes)
	if e.UserID != "" {
		r.ProfileURL = userURL(e.UserID)
	}
	if e.AnonymousID != "" {
		r.AnonymousProfileURL = anonURL(e.AnonymousID)
	}
	return r
}

// What the events page pretty-prints of one event at most; a page of 50
// events stays under a few megabytes whatever is stored.
const (
	rawShownDepth = 16
	rawShownBytes = 16 << 10
)

// EventRawDownload serves one event's JSON exactly as stored, as a file.
func (h *Handler) EventRawDownload(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "no such event")
	}
	raw, err := h.Store.EventRaw(c.Request().Context(), ws.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.New(apperr.NotFound, "no such event in this workspace")
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="event-%d.json"`, id))
	return c.Blob(http.StatusOK, "application/json", raw)
}
