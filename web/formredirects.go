package web

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
)

// formSections says where each dashboard form lives: a POST URL's pattern
// prefix → the page and section (element id) that shows the form. The
// longest matching prefix wins; a form not listed here goes to the nearest
// page above its URL (formTarget).
var formSections = map[string]string{
	"/dashboard/settings/secret":                   "/dashboard/settings#segment-source",
	"/dashboard/settings/first-element-signatures": "/dashboard/settings#segment-source",
	"/dashboard/settings/test-event":               "/dashboard/settings#segment-source",
	"/dashboard/settings/segment-deletes":          "/dashboard/settings#segment-source",
	"/dashboard/settings/writekeys":                "/dashboard/settings#http-api-source",
	"/dashboard/settings/api-tokens":               "/dashboard/settings#api-tokens",
	"/dashboard/settings/email":                    "/dashboard/settings#email",
	"/dashboard/workspaces":                        "/dashboard/settings#workspaces",
	"/dashboard/users/:userId/delete":              "/dashboard/users/:userId#delete-user",
	"/dashboard/users/:userId/unsuppress":          "/dashboard/users/:userId#suppressed",
	"/dashboard/anonymous/:anonymousId/delete":     "/dashboard/anonymous/:anonymousId#delete-user",
	"/dashboard/anonymous/:anonymousId/unsuppress": "/dashboard/anonymous/:anonymousId#suppressed",
	"/dashboard/destinations/:id/":                 "/dashboard/destinations/:id#destination",
	"/dashboard/destinations":                      "/dashboard/destinations#destinations",
	"/dashboard/audiences/:key/delete":             "/dashboard/audiences/:key#definition-section",
	"/dashboard/audiences/preview":                 "/dashboard/audiences/new#definition-section",
	"/dashboard/journeys/validate":                 "/dashboard/journeys/new#journey-editor",
	"/dashboard/journeys/:key/":                    "/dashboard/journeys/:key",
	"/dashboard/messages/bounces/lift":             "/dashboard/messages#bounces",
	"/logout":                                      "/dashboard/settings",
}

// formGetRedirects gives every form's POST URL a GET that redirects to the
// form's section: a reload or bookmark of the address a form posted to (after
// a re-rendered error, say) then lands on the form instead of a 404. It runs
// after every route is listed, so a form added later gets one too.
func (s *Server) formGetRedirects(mw ...echo.MiddlewareFunc) {
	gets := map[string]bool{}
	for _, r := range s.echo.Routes() {
		if r.Method == http.MethodGet {
			gets[r.Path] = true
		}
	}
	var posts []string
	for _, r := range s.echo.Routes() {
		if r.Method == http.MethodPost && !gets[r.Path] && (strings.HasPrefix(r.Path, "/dashboard/") || r.Path == "/logout") {
			posts = append(posts, r.Path)
		}
	}
	sort.Strings(posts)
	for _, p := range posts {
		if gets[p] {
			continue
		}
		gets[p] = true
		target := formTarget(p, gets)
		s.echo.GET(p, func(c echo.Context) error {
			t := target
			// One route serves every destination action; delete has a
			// section of its own.
			if c.Param("action") == "delete" && strings.HasPrefix(p, "/dashboard/destinations/") {
				t = "/dashboard/destinations/:id#delete-destination"
			}
			return c.Redirect(http.StatusSeeOther, fillParams(t, c))
		}, mw...)
	}
}

// formTarget is the page (with its section) for the form posting to path.
func formTarget(path string, gets map[string]bool) string {
	best := ""
	for prefix := range formSections {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best != "" {
		return formSections[best]
	}
	for p := path; strings.Count(p, "/") > 1; {
		p = p[:strings.LastIndex(p, "/")]
		if gets[p] {
			return p
		}
	}
	return "/dashboard"
}

// fillParams puts the request's path parameters into target's :name parts,
// each unescaped and escaped again, so the redirect stays a path on this
// server whatever the parameter holds.
func fillParams(target string, c echo.Context) string {
	path, frag, _ := strings.Cut(target, "#")
	parts := strings.Split(path, "/")
	for i, part := range parts {
		if name, ok := strings.CutPrefix(part, ":"); ok {
			v, err := url.PathUnescape(c.Param(name))
			if err != nil {
				v = c.Param(name)
			}
			parts[i] = url.PathEscape(v)
		}
	}
	out := strings.Join(parts, "/")
	if frag != "" {
		out += "#" + frag
	}
	return out
}
