// Package email renders Liquid templates, composes and sends email over
// SMTP with a mail library (go-mail: MIME, encodings, connection reuse), and
// makes and checks the one-click unsubscribe tokens (RFC 8058).
package email

import (
	"fmt"
	"html"
	"reflect"
	"regexp"
	"strings"

	"github.com/osteele/liquid"
)

// Limits on what a template may hold: the API refuses larger ones.
const (
	MaxSubject = 998 // RFC 5322's line limit
	MaxBody    = 256 << 10
)

// Template is what is rendered: a subject and an HTML and/or text body.
type Template struct {
	Subject string
	HTML    string
	Text    string
}

// Rendered is a template's output; Text is derived from HTML when the
// template has no text part.
type Rendered struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

// SyntaxError is a template that does not parse: which part, which line.
type SyntaxError struct {
	Field string // subject, html or text
	Line  int
	Msg   string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s: Liquid syntax error on line %d: %s", e.Field, e.Line, e.Msg)
}

// safeHTML is output a template marked with the raw filter: written as is.
type safeHTML string

// engines: one escapes every output of the HTML part, one renders the
// subject and the text part as plain text.
var htmlEngine, textEngine = newEngine(), newEngine()

func newEngine() *liquid.Engine {
	e := liquid.NewEngine()
	// raw marks a value as HTML the template trusts; autoescape (added to
	// every output of the HTML part by escapeOutputs) escapes the rest.
	e.RegisterFilter("raw", func(v any) any { return safeHTML(liquidString(v)) })
	e.RegisterFilter("autoescape", func(v any) any {
		if s, ok := v.(safeHTML); ok {
			return string(s)
		}
		return html.EscapeString(liquidString(v))
	})
	return e
}

// liquidString is how Liquid prints a value.
func liquidString(v any) string {
	if v == nil {
		return ""
	}
	if s, ok := v.(safeHTML); ok {
		return string(s)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8 {
		var b strings.Builder
		for i := range rv.Len() {
			b.WriteString(liquidString(rv.Index(i).Interface()))
		}
		return b.String()
	}
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return fmt.Sprint(v)
}

var liquidPrefix = regexp.MustCompile(`^Liquid error( \(line \d+\))?: `)

// outputTag is one {{ … }} of a template, with its whitespace-trim markers.
var outputTag = regexp.MustCompile(`(?s)\{\{(-?)(.*?)(-?)\}\}`)

// escapeOutputs makes every {{ x }} of an HTML part {{ x | autoescape }},
// so output is escaped unless a filter says otherwise (raw, or escape
// already). It adds no line, so syntax errors keep their line numbers.
func escapeOutputs(src string) string {
	return outputTag.ReplaceAllStringFunc(src, func(tag string) string {
		m := outputTag.FindStringSubmatch(tag)
		expr := strings.TrimSpace(m[2])
		last := expr
		if i := strings.LastIndex(expr, "|"); i >= 0 {
			last = strings.TrimSpace(expr[i+1:])
		}
		if last == "escape" || last == "escape_once" || strings.HasPrefix(last, "autoescape") {
			return tag
		}
		return "{{" + m[1] + " " + expr + " | autoescape " + m[3] + "}}"
	})
}

// Check parses every part of t and reports the first syntax error with its
// part and line.
func Check(t Template) error {
	for _, p := range []struct {
		field, src string
		e          *liquid.Engine
	}{{"subject", t.Subject, textEngine}, {"html", escapeOutputs(t.HTML), htmlEngine}, {"text", t.Text, textEngine}} {
		if _, err := p.e.ParseString(p.src); err != nil {
			return syntaxError(p.field, err)
		}
	}
	return nil
}

// Render renders t with vars (user, event, audience, unsubscribe_url,
// preferences_url). The subject is one line: newlines become spaces.
func Render(t Template, vars map[string]any) (Rendered, error) {
	c, err := Compile(t)
	if err != nil {
		return Rendered{}, err
	}
	return c.Render(vars)
}

// Compiled is a template parsed once, to render for many users (a
// broadcast parses each template once, not once per email).
type Compiled struct {
	subject, html, text *liquid.Template // nil: the part is empty
}

// Compile parses every part of t.
func Compile(t Template) (*Compiled, error) {
	var c Compiled
	for _, p := range []struct {
		field, src string
		e          *liquid.Engine
		dst        **liquid.Template
	}{{"subject", t.Subject, textEngine, &c.subject}, {"html", escapeOutputs(t.HTML), htmlEngine, &c.html},
		{"text", t.Text, textEngine, &c.text}} {
		if strings.TrimSpace(p.src) == "" && p.field == "text" || p.src == "" {
			continue
		}
		tpl, err := p.e.ParseString(p.src)
		if err != nil {
			return nil, syntaxError(p.field, err)
		}
		*p.dst = tpl
	}
	return &c, nil
}

// Render renders the compiled template with vars; Text is derived from
// HTML when the template has no text part.
func (c *Compiled) Render(vars map[string]any) (Rendered, error) {
	var out Rendered
	var err error
	if out.Subject, err = render(c.subject, "subject", vars); err != nil {
		return Rendered{}, err
	}
	out.Subject = strings.Join(strings.Fields(out.Subject), " ")
	if out.HTML, err = render(c.html, "html", vars); err != nil {
		return Rendered{}, err
	}
	if c.text != nil {
		if out.Text, err = render(c.text, "text", vars); err != nil {
			return Rendered{}, err
		}
	} else if out.HTML != "" {
		out.Text = HTMLToText(out.HTML)
	}
	return out, nil
}

func render(t *liquid.Template, field string, vars map[string]any) (string, error) {
	if t == nil {
		return "", nil
	}
	s, err := t.RenderString(vars)
	if err != nil {
		return "", syntaxError(field, err)
	}
	return s, nil
}

func syntaxError(field string, err liquid.SourceError) *SyntaxError {
	msg := err.Error()
	if c := err.Cause(); c != nil {
		msg = c.Error()
	}
	// osteele/liquid counts lines from 0 and says so in its own prefix:
	// report lines as editors number them.
	msg = liquidPrefix.ReplaceAllString(msg, "")
	return &SyntaxError{Field: field, Line: err.LineNumber() + 1, Msg: msg}
}
