package web_test

import (
	"github.com/inlet-dev/inlet/web/webtest"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Issue 19 item 13: a GET of a form's POST URL (a reload or bookmark of
// /dashboard/settings/writekeys after a re-rendered error) redirects to the
// form's section instead of answering 404 — for every form on the pages,
// found by reading them, so a form added later is covered too.
func TestFormURLsRedirectToTheirSection(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{St: testdb.SQLite(t)})
	b := d.C
	settings := b.MustSignIn()
	// Make the per-item forms appear: two secrets (revoke previous), a write
	// key, an API token, a destination.
	for _, sec := range []string{"first-secret-0123456789abcdef", "second-secret-0123456789abcdef"} {
		if p := b.Submit(settings, "#secret-form", url.Values{"secret": {sec}}); p.Status != http.StatusSeeOther {
			t.Fatalf("save secret: %d %s", p.Status, p.Body)
		}
		settings = b.Get("/dashboard/settings")
	}
	b.Submit(settings, "#write-key-form", url.Values{"name": {"checkout"}})
	settings = b.Get("/dashboard/settings")
	b.Submit(settings, "#api-token-form", url.Values{"name": {"crm"}, "scope": {"read"}})
	dests := b.Get("/dashboard/destinations")
	created := b.Submit(dests, "#destination-form", url.Values{"url": {"http://127.0.0.1:9/hook"}, "name": {"crm"}})
	if created.Status != http.StatusOK {
		t.Fatalf("create destination: %d %s", created.Status, created.Body)
	}
	destURL := ""
	created.Doc.Find(`a[href^="/dashboard/destinations/"]`).EachWithBreak(func(_ int, s *goquery.Selection) bool {
		destURL, _ = s.Attr("href")
		return false
	})
	if destURL == "" {
		t.Fatal("no link to the new destination's page")
	}

	actions := map[string]string{} // action → the page it was found on
	for _, path := range []string{"/dashboard/settings", "/dashboard/destinations", destURL} {
		p := b.Get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, p.Status)
		}
		p.Doc.Find("form").Each(func(_ int, f *goquery.Selection) {
			if m, _ := f.Attr("method"); !strings.EqualFold(m, "post") {
				return
			}
			a, _ := f.Attr("action")
			actions[a] = path
		})
	}
	for _, want := range []string{"/dashboard/settings/writekeys", "/dashboard/settings/api-tokens", "/dashboard/settings/secret",
		"/dashboard/settings/secret/revoke", "/dashboard/settings/test-event", "/dashboard/workspaces",
		"/dashboard/destinations", "/logout"} {
		if _, ok := actions[want]; !ok {
			t.Errorf("no form posting to %s was found; the test would not cover it", want)
		}
	}
	for action, foundOn := range actions {
		t.Run(action, func(t *testing.T) {
			r := b.Get(action)
			if r.Status == http.StatusOK && r.Doc.Find(`form[action="`+action+`"]`).Length() > 0 {
				return // the URL is the form's own webtest.Page
			}
			if r.Status != http.StatusSeeOther {
				t.Fatalf("GET %s (form on %s): %d, want 303 to the form", action, foundOn, r.Status)
			}
			loc, err := url.Parse(r.Header.Get("Location"))
			if err != nil || loc.Host != "" || !strings.HasPrefix(loc.Path, "/") {
				t.Fatalf("GET %s redirects to %q, want a path on this server", action, r.Header.Get("Location"))
			}
			target := b.Get(loc.RequestURI())
			if target.Status != http.StatusOK {
				t.Fatalf("%s leads to %s: %d", action, loc, target.Status)
			}
			if action == "/logout" {
				if loc.Fragment != "" {
					t.Errorf("/logout redirects to %s", loc)
				}
				return
			}
			if loc.Fragment == "" {
				t.Fatalf("GET %s redirects to %s, without the form's section", action, loc)
			}
			section := target.Doc.Find("#" + loc.Fragment)
			if section.Length() == 0 {
				t.Fatalf("GET %s redirects to %s, but that page has no #%s", action, loc, loc.Fragment)
			}
			// The section holds the form (or, for a form inside a list, a form
			// posting to the same kind of URL).
			if section.Find(`form[action="`+action+`"]`).Length() == 0 && !sectionHasFormLike(section, action) {
				t.Errorf("#%s on %s does not hold the form posting to %s", loc.Fragment, loc.Path, action)
			}
		})
	}

	// Path parameters are carried over, escaped, and cannot lead off-site.
	for path, want := range map[string]string{
		"/dashboard/users/a%20b%2Fc/delete":            "/dashboard/users/a%20b%2Fc#delete-user",
		"/dashboard/anonymous/anon-1/unsuppress":       "/dashboard/anonymous/anon-1#suppressed",
		"/dashboard/users/%2F%2Fevil.example/delete":   "/dashboard/users/%2F%2Fevil.example#delete-user",
		"/dashboard/settings/writekeys/some-id/revoke": "/dashboard/settings#http-api-source",
	} {
		if r := b.Get(path); r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, r.Status, r.Header.Get("Location"), want)
		}
	}
}

// sectionHasFormLike: a form in the section whose action has the same shape
// as action (ids differ per row).
func sectionHasFormLike(section *goquery.Selection, action string) bool {
	shape := func(s string) string {
		parts := strings.Split(s, "/")
		if len(parts) > 2 {
			parts[len(parts)-2] = "*"
		}
		return strings.Join(parts, "/")
	}
	found := false
	section.Find("form").Each(func(_ int, f *goquery.Selection) {
		a, _ := f.Attr("action")
		if shape(a) == shape(action) {
			found = true
		}
	})
	return found
}
