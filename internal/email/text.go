package email

import (
	"strings"

	"golang.org/x/net/html"
)

// blockTags end a line in the text part.
var blockTags = map[string]bool{"p": true, "div": true, "br": true, "tr": true, "li": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "table": true, "ul": true, "ol": true, "blockquote": true, "hr": true}

// HTMLToText derives the text part from the HTML one: the text of the
// document, a line per block, links as "text (url)", no script or style.
func HTMLToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	var hrefs []string
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return tidy(b.String())
		case html.TextToken:
			if skip == 0 {
				// z.Text may be called once per token.
				t := string(z.Text())
				words := strings.Join(strings.Fields(t), " ")
				if words != "" && strings.TrimLeft(t, " \t\r\n") != t {
					b.WriteByte(' ')
				}
				b.WriteString(words)
				if words != "" && strings.TrimRight(t, " \t\r\n") != t {
					b.WriteByte(' ')
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			switch {
			case tag == "script" || tag == "style" || tag == "head" || tag == "title":
				skip++
			case tag == "a":
				href := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						href = string(v)
					}
				}
				hrefs = append(hrefs, href)
			case blockTags[tag]:
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case tag == "script" || tag == "style" || tag == "head" || tag == "title":
				skip = max(skip-1, 0)
			case tag == "a" && len(hrefs) > 0:
				href := hrefs[len(hrefs)-1]
				hrefs = hrefs[:len(hrefs)-1]
				if href != "" && !strings.HasPrefix(href, "#") && !strings.Contains(b.String()[max(b.Len()-len(href)-2, 0):], href) {
					b.WriteString(" (" + href + ")")
				}
			case blockTags[tag]:
				b.WriteByte('\n')
			}
		}
	}
}

// tidy trims each line and keeps at most one empty line in a row.
func tidy(s string) string {
	var out []string
	blank := false
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
