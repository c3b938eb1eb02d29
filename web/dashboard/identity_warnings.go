package dashboard

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/a-h/templ"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// warningsPage is how many refused merges one page lists.
const warningsPage = 100

// maxRefusedShown bounds the refused-ids table.
const maxRefusedShown = 100

// IdentityWarnings is GET /dashboard/identity-warnings: the workspace's
// refused alias merges (paged, newest first) and the ids refused as
// identities, so no refusal of the identity graph is silent.
func (h *Handler) IdentityWarnings(c echo.Context) error {
	lp, err := h.layoutProps(c, "Identity warnings", "users")
	if err != nil {
		return err
	}
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	from, err := strconv.Atoi(c.QueryParam("from"))
	if err != nil || from < 0 || from > maxIdentityOffset {
		from = 0
	}
	merges, total, err := h.Store.ListMergeRefusals(ctx, ws.ID, from, warningsPage)
	if err != nil {
		return fmt.Errorf("identity warnings: %w", err)
	}
	p := templates.WarningsProps{Layout: lp, From: from, Total: total}
	for _, m := range merges {
		src := "client write key"
		if m.Trusted {
			src = "webhook or server key"
		}
		p.Merges = append(p.Merges, templates.MergeWarning{PreviousID: m.PreviousID, PreviousURL: userURL(m.PreviousID),
			UserID: m.UserID, UserURL: userURL(m.UserID), Why: refusalWhy(m.Reason), Source: src, MessageID: m.MessageID, At: m.TS})
	}
	page := func(n int) templ.SafeURL {
		return templ.SafeURL("/dashboard/identity-warnings?from=" + strconv.Itoa(n))
	}
	if int64(from+len(merges)) < total {
		p.NextURL = page(from + len(merges))
	}
	if from > 0 {
		p.PrevURL = page(max(0, from-warningsPage))
	}
	refused, err := h.Store.RefusedIDs(ctx, ws.ID, maxRefusedShown)
	if err != nil {
		return fmt.Errorf("refused ids: %w", err)
	}
	for _, r := range refused {
		p.Refused = append(p.Refused, templates.RefusedIDRow{Kind: r.Kind, Value: r.Value, Events: r.Events})
	}
	return render.Page(c, http.StatusOK, templates.Warnings(p))
}
