package jsonview

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestIndentMatchesJSONIndentWithinBounds(t *testing.T) {
	for _, raw := range []string{
		`{"type":"track","properties":{"a":[1,2,{"b":"x,y:{}"}],"e":{},"f":[]},"s":"q\"uo\\te"}`,
		` [ {"a" : 1} , {"b":[ ]} ] `,
		`"just a string"`,
	} {
		var want bytes.Buffer
		if err := json.Indent(&want, []byte(strings.TrimSpace(raw)), "", "  "); err != nil {
			t.Fatal(err)
		}
		got, cut := Indent([]byte(raw), 20, 1<<20)
		if cut || got != want.String() {
			t.Errorf("Indent(%s) =\n%s\nwant\n%s", raw, got, want.String())
		}
	}
}

func TestIndentIsBoundedByDepthAndSize(t *testing.T) {
	const depth = 10000
	raw := []byte(`{"x":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + `}`)
	got, cut := Indent(raw, 8, 1<<20)
	if cut {
		t.Fatal("cut although small")
	}
	if len(got) > len(raw)+200 {
		t.Fatalf("%d bytes out for %d in", len(got), len(raw))
	}
	if !strings.Contains(got, strings.Repeat("[", depth-10)) {
		t.Fatal("the deep part is not written as stored")
	}
	big := []byte(`[` + strings.Repeat(`"aaaaaaaa",`, 10000) + `1]`)
	got, cut = Indent(big, 8, 4096)
	if !cut || len(got) > 4096+16 {
		t.Fatalf("cut=%v len=%d, want cut at about 4096", cut, len(got))
	}
}
