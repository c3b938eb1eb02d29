package dashboard_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Issue 17 item 3: the dashboard finds every id whatever it holds: the
// list's links, the profile page, its delete and unsuppress forms, typed
// URLs; and it finds the same user the API does (web/api's
// TestIDsOfAnyShape, cmd/inlet's TestUserCommandsTakeAnyIDAndTokensExpire).
func TestDashboardFindsIDsOfAnyShape(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ids := []string{"a/b", "a", "a%2Fb", "100%", "a+b", "a b", "café ☕", "../x", "?q=1#f", "%41"}
	var evs []string
	for i, id := range ids {
		b, _ := json.Marshal(id)
		evs = append(evs, ev("identify", fmt.Sprint("m-odd-", i), fmt.Sprintf("2026-01-01T10:00:%02dZ", i), `"userId":`+string(b)))
	}
	evs = append(evs, ev("page", "m-anon", "2026-01-01T11:00:00Z", `"anonymousId":"dev/ice 1%"`))
	d.send(evs...)
	b := d.C
	b.MustSignIn()
	list := b.Get("/dashboard/users")
	for _, id := range ids {
		// The list's link for the id leads to its page.
		href := ""
		list.Doc.Find("#users .user-row a").Each(func(_ int, a *goquery.Selection) {
			if strings.TrimSpace(a.Text()) == id {
				href, _ = a.Attr("href")
			}
		})
		if href == "" {
			t.Errorf("no link for %q in the list", id)
		} else if pg := b.Get(href); pg.Status != 200 || pg.Text("#profile-heading") != id {
			t.Errorf("the list's link for %q (%s): %d heading %q", id, href, pg.Status, pg.Text("#profile-heading"))
		}
		pg := b.Get("/dashboard/users/" + url.PathEscape(id))
		if pg.Status != 200 || pg.Text("#profile-heading") != id {
			t.Errorf("profile page of %q: %d heading %q", id, pg.Status, pg.Text("#profile-heading"))
		}
	}
	// Erase a/b from its page's form: a and the literal a%2Fb stay.
	pg := b.Get("/dashboard/users/" + url.PathEscape("a/b"))
	gone := b.Follow(b.Submit(pg, "#delete-form", url.Values{"confirm": {"yes"}, "suppress": {"yes"}}))
	// One id and its one event, counted in words a person reads ("1 ids" was wrong).
	if !strings.Contains(string(gone.Body), "Deleted the profile, 1 id and 1 event.") {
		t.Errorf("erasing a/b: %d %s", gone.Status, gone.Body)
	}
	for _, id := range []string{"a", "a%2Fb"} {
		if pg := b.Get("/dashboard/users/" + url.PathEscape(id)); pg.Status != 200 || pg.Text("#profile-heading") != id {
			t.Errorf("%q after erasing a/b: %d", id, pg.Status)
		}
	}
	// The erased page offers lifting; the form names the same id.
	lifted := b.Follow(b.Submit(gone, "#unsuppress-form", nil))
	if !strings.Contains(string(lifted.Body), "Suppression lifted") {
		t.Errorf("lifting a/b: %d %s", lifted.Status, lifted.Body)
	}
	// An anonymous id with a slash, a space and a percent sign.
	anon := b.Get("/dashboard/anonymous/" + url.PathEscape("dev/ice 1%"))
	if anon.Status != 200 || !strings.Contains(anon.Text("#profile-heading"), "dev/ice 1%") {
		t.Errorf("anonymous page: %d %q", anon.Status, anon.Text("#profile-heading"))
	}
}
