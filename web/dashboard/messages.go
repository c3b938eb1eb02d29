package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// messageStatuses are the statuses the log's filter offers.
var messageStatuses = []string{"queued", "sending", "sent", "skipped", "failed", "bounced"}

// bouncesShown is how many suppressed addresses the log page lists.
const bouncesShown = 200

// MessagesList is GET /dashboard/messages?userId=&journey=&status=&before=&limit=:
// the messages log, newest first, a page at a time (keyset: before is the
// last id of the previous page), and the bounced addresses.
func (h *Handler) MessagesList(c echo.Context) error {
	ctx := c.Request().Context()
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	lp, err := h.layoutProps(c, "Messages", "messages")
	if err != nil {
		return err
	}
	q := c.QueryParams()
	f := store.MessageFilter{UserID: strings.TrimSpace(q.Get("userId")), Journey: strings.TrimSpace(q.Get("journey")),
		Status: q.Get("status")}
	size := messagesShown
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 500 {
			return apperr.New(apperr.Invalid, "The page size (limit) is a whole number from 1 to 500.")
		}
		size = n
	}
	f.Limit = size + 1 // one more tells whether an older page exists
	p := templates.MessagesProps{Layout: lp, WorkspaceID: ws.ID.String(), UserID: f.UserID, Journey: f.Journey, Status: f.Status,
		Statuses: messageStatuses}
	for _, v := range []string{f.UserID, f.Journey} {
		if !store.ValidSearchText(v) {
			return apperr.New(apperr.Invalid, "The userId and journey filters are at most 1024 bytes of UTF-8.")
		}
	}
	if f.Status != "" && !contains(messageStatuses, f.Status) {
		return apperr.New(apperr.Invalid, "The status filter is one of "+strings.Join(messageStatuses, ", ")+".")
	}
	if raw := q.Get("before"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 1 {
			return apperr.New(apperr.Invalid, "This page link is not valid.")
		}
		f.Before, p.Paged = n, true
	}
	ms, err := h.Store.Messages(ctx, ws.ID, f)
	if err != nil {
		return err
	}
	if len(ms) > size {
		ms = ms[:size]
		next := url.Values{}
		if size != messagesShown {
			next.Set("limit", strconv.Itoa(size))
		}
		for k, v := range map[string]string{"userId": f.UserID, "journey": f.Journey, "status": f.Status} {
			if v != "" {
				next.Set(k, v)
			}
		}
		next.Set("before", strconv.FormatInt(ms[len(ms)-1].ID, 10))
		p.NextURL = "/dashboard/messages?" + next.Encode()
	}
	p.Messages = messageRows(ms)
	bs, err := h.Store.Bounces(ctx, ws.ID, bouncesShown)
	if err != nil {
		return err
	}
	for _, b := range bs {
		p.Bounces = append(p.Bounces, templates.BounceRow{Address: b.Address, Reply: b.Reply, At: b.At})
	}
	return render.Page(c, http.StatusOK, templates.Messages(p))
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// BounceLift is POST /dashboard/messages/bounces/lift: email goes to the
// address again.
func (h *Handler) BounceLift(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	addr := strings.TrimSpace(c.FormValue("address"))
	if addr == "" || len(addr) > 320 {
		return apperr.New(apperr.Invalid, "No address to lift.")
	}
	lifted, err := h.Store.LiftBounce(c.Request().Context(), ws.ID, addr)
	if err != nil {
		return err
	}
	if lifted {
		admin, _ := h.admin(c)
		logger(c).Info("bounce lifted", "workspace", ws.ID, "admin", admin.Email)
		h.flash(c, "success", addr+" is no longer suppressed: email goes to it again.")
	} else {
		h.flash(c, "error", addr+" was not suppressed.")
	}
	return c.Redirect(http.StatusSeeOther, "/dashboard/messages#bounces")
}
