package web_test

import (
	"github.com/inlet-dev/inlet/web/webtest"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// The documentation is served: every docs/*.md renders, links between docs
// stay on the server, and "Expose Inlet to Segment" is there.
func TestDocsServed(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	b := d.NewBrowser()
	index := b.Get("/docs")
	if index.Status != http.StatusOK {
		t.Fatalf("GET /docs: %d", index.Status)
	}
	entries, err := os.ReadDir(filepath.Join("..", "docs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".md")
		if !ok {
			continue
		}
		if index.Doc.Find(`a[href="/docs/`+name+`"]`).Length() != 1 {
			t.Errorf("/docs does not list %s", e.Name())
		}
		p := b.Get("/docs/" + name)
		if p.Status != http.StatusOK || p.Doc.Find("#doc").Length() != 1 {
			t.Errorf("GET /docs/%s: %d", name, p.Status)
		}
		p.Doc.Find("#doc a[href]").Each(func(_ int, a *goquery.Selection) {
			href, _ := a.Attr("href")
			if strings.HasSuffix(strings.SplitN(href, "#", 2)[0], ".md") {
				t.Errorf("/docs/%s links to %s, which is not served", name, href)
			}
		})
	}
	p := b.Get("/docs/expose")
	if got := p.Text("#doc h1"); got != "Expose Inlet to Segment" {
		t.Errorf("/docs/expose heading %q", got)
	}
	for _, bad := range []string{"/docs/..%2Fgo.mod", "/docs/nope", "/docs/API"} {
		if r := b.Get(bad); r.Status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", bad, r.Status)
		}
	}
}
