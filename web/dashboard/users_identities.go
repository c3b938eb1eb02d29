package dashboard

import (
	"fmt"
	"strconv"

	"github.com/a-h/templ"
	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// identitiesPage is how many identities one profile page lists; more are
// paged (?ids=offset), so a profile of any size renders the same.
const identitiesPage = 100

// maxIdentityOffset bounds ?ids=: past it the page is empty, never slow.
const maxIdentityOffset = 1 << 20

// fillIdentities puts one page of the profile's identities and its refused
// merges on the page.
func (h *Handler) fillIdentities(c echo.Context, p *templates.UserProps, ws uuid.UUID, v profiles.View, ref profileRef) error {
	ctx := c.Request().Context()
	from, err := strconv.Atoi(c.QueryParam("ids"))
	if err != nil || from < 0 || from > maxIdentityOffset {
		from = 0
	}
	ids, total, err := h.Store.ProfileIdentityPage(ctx, ws, v.Key, from, identitiesPage)
	if err != nil {
		return fmt.Errorf("profile identities: %w", err)
	}
	p.IdentityCount, p.IdentitiesFrom = total, from
	userID := ""
	if v.UserID != nil {
		userID = *v.UserID
	}
	for _, id := range ids {
		row := templates.IdentityRow{Kind: identityKind(id, userID), ID: id.Value, MessageID: id.ViaMessage,
			Why: identityWhy(profiles.IdentityView{Via: id.Via})}
		if id.ViaTS != nil {
			row.At = *id.ViaTS
		}
		p.Identities = append(p.Identities, row)
	}
	page := func(n int) templ.SafeURL {
		return templ.SafeURL(ref.url() + "?ids=" + strconv.Itoa(n) + "#identities-section")
	}
	if int64(from+len(ids)) < total {
		p.IdentitiesNext = page(from + len(ids))
	}
	if from > 0 {
		p.IdentitiesPrev = page(max(0, from-identitiesPage))
	}
	p.WarningsURL = templ.SafeURL("/dashboard/identity-warnings")
	p.MergeRefusalsAll = v.MergeRefusalsTotal
	for _, r := range v.MergeRefusals {
		p.MergeRefusals = append(p.MergeRefusals, templates.RefusalRow{Other: r.OtherID, OtherURL: userURL(r.OtherID),
			Why: refusalWhy(r.Reason), MessageID: r.MessageID, At: r.Timestamp})
	}
	return nil
}

// identityKind names an id's role on the page: the profile's userId, one
// of its anonymous ids, or an alias (a former userId, or an id only ever
// named as an alias's previousId).
func identityKind(id store.Identity, userID string) string {
	switch {
	case id.Kind == store.IdentityAnon:
		return "anonymousId"
	case id.Value == userID:
		return "userId"
	case id.Seen:
		return "alias (former userId)"
	}
	return "alias"
}

// refusalWhy says in words why a merge was refused.
func refusalWhy(reason string) string {
	if reason == store.RefusedMaxUserIDs {
		return "the merged profile would hold more userIds than PROFILE_MAX_USER_IDS allows"
	}
	return "both have a userId with events of their own, and the alias came from a client write key (only the signed webhook or a server write key may merge two users)"
}
