// Package docsite is the room that shows the embedded documentation
// (docs/*.md) as pages: GET /docs lists it, GET /docs/NAME renders NAME.md.
// The dashboard links here ("Expose Inlet to Segment", the API reference)
// so an admin reads the docs of the version that runs.
package docsite

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
)

// Handler renders the pages of files (docs.FS in main).
type Handler struct {
	Files fs.FS

	once  sync.Once
	pages map[string]page // by name, without .md
	names []string
}

type page struct {
	title string
	html  string
}

// name is a doc's file name without .md: lower-case words and hyphens, so a
// path can never leave the embedded folder.
var name = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// mdLink is a link to another doc in rendered HTML: "api.md",
// "docs/api.md", "../docs/api.md#x" → "/docs/api#x".
var mdLink = regexp.MustCompile(`href="(?:\.\./)?(?:docs/)?([a-z0-9][a-z0-9-]*)\.md(#[^"]*)?"`)

// load renders every doc once: they are embedded, so they never change.
func (h *Handler) load() {
	h.pages = map[string]page{}
	md := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithParserOptions(parser.WithAutoHeadingID()))
	entries, _ := fs.ReadDir(h.Files, ".")
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".md")
		if !ok || !name.MatchString(n) {
			continue
		}
		src, err := fs.ReadFile(h.Files, e.Name())
		if err != nil {
			continue
		}
		var out bytes.Buffer
		if err := md.Convert(src, &out); err != nil {
			continue
		}
		html := mdLink.ReplaceAllString(out.String(), `href="/docs/$1$2"`)
		h.pages[n] = page{title: title(src, n), html: html}
		h.names = append(h.names, n)
	}
	sort.Strings(h.names)
}

// title is the doc's first "# " heading, else its name.
func title(src []byte, n string) string {
	for _, line := range strings.Split(string(src), "\n") {
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return strings.TrimSpace(t)
		}
	}
	return n
}

// Index is GET /docs: every doc by title.
func (h *Handler) Index(c echo.Context) error {
	h.once.Do(h.load)
	var b strings.Builder
	b.WriteString("<ul class=\"doc-index\">")
	for _, n := range h.names {
		fmt.Fprintf(&b, `<li><a href="/docs/%s">%s</a> <span class="muted mono">docs/%s.md</span></li>`,
			n, templ.EscapeString(h.pages[n].title), n)
	}
	b.WriteString("</ul>")
	return render.Page(c, http.StatusOK, templates.DocPage("Documentation", templ.Raw(b.String())))
}

// Show is GET /docs/:name: one doc, rendered from its Markdown.
func (h *Handler) Show(c echo.Context) error {
	h.once.Do(h.load)
	n := strings.TrimSuffix(c.Param("name"), ".md")
	p, ok := h.pages[n]
	if !name.MatchString(n) || !ok {
		return apperr.New(apperr.NotFound, "no such document: see /docs")
	}
	return render.Page(c, http.StatusOK, templates.DocPage(p.title, templ.Raw(p.html)))
}
