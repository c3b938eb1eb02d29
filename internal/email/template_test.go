package email

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestRenderEscapesHTMLUnlessRaw(t *testing.T) {
	t.Parallel()
	vars := Vars("u1", map[string]json.RawMessage{"name": json.RawMessage(`"<b>Ann</b> & co"`)},
		map[string]any{"event": "Checkout Started", "properties": map[string]any{"cartId": "c9"}}, "vip", "https://x/u/tok")
	r, err := Render(Template{
		Subject: "Hi {{ user.traits.name }}",
		HTML:    `<p>Hello {{ user.traits.name }}</p><p>{{ user.traits.name | raw }}</p><p>{{ user.traits.name | escape }}</p><a href="{{ unsubscribe_url }}">Unsubscribe</a> {{ event.properties.cartId }}`,
	}, vars)
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hi <b>Ann</b> & co" {
		t.Errorf("subject %q: the subject is text, not HTML", r.Subject)
	}
	want := `<p>Hello &lt;b&gt;Ann&lt;/b&gt; &amp; co</p><p><b>Ann</b> & co</p><p>&lt;b&gt;Ann&lt;/b&gt; &amp; co</p><a href="https://x/u/tok">Unsubscribe</a> c9`
	if r.HTML != want {
		t.Errorf("html\n got %s\nwant %s", r.HTML, want)
	}
	if !strings.Contains(r.Text, "Hello <b>Ann</b> & co") || !strings.Contains(r.Text, "Unsubscribe (https://x/u/tok)") {
		t.Errorf("derived text %q", r.Text)
	}
}

func TestRenderKeepsGivenTextPart(t *testing.T) {
	t.Parallel()
	r, err := Render(Template{Subject: "s", HTML: "<p>h</p>", Text: "plain {{ user.userId }}"}, Vars("u&1", nil, nil, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if r.Text != "plain u&1" {
		t.Errorf("text %q: the text part is not HTML-escaped", r.Text)
	}
}

func TestCheckReportsFieldAndLine(t *testing.T) {
	t.Parallel()
	err := Check(Template{Subject: "ok", HTML: "<p>one</p>\n<p>two</p>\n{% if user %}\n<p>never closed</p>"})
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("err %v, want a SyntaxError", err)
	}
	if se.Field != "html" || se.Line != 3 {
		t.Errorf("got %s line %d (%s), want html line 3", se.Field, se.Line, se.Msg)
	}
	if err := Check(Template{Subject: "{% endif %}", HTML: "x"}); !errors.As(err, &se) || se.Field != "subject" || se.Line != 1 {
		t.Errorf("subject error: %v", err)
	}
	if err := Check(Template{Subject: "a {{ user.userId }}", HTML: "<p>{{ user.traits.name | upcase }}</p>"}); err != nil {
		t.Errorf("valid template refused: %v", err)
	}
}

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	got := HTMLToText(`<html><head><title>T</title><style>p{}</style></head><body><h1>Title</h1><p>Line &amp; one</p><script>x()</script><ul><li>a</li><li>b</li></ul><p><a href="https://e.x/p">https://e.x/p</a></p></body></html>`)
	want := "Title\n\nLine & one\n\na\n\nb\n\nhttps://e.x/p"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
