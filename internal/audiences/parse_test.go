package audiences

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func mustParse(t testing.TB, raw string) *Definition {
	t.Helper()
	d, err := Parse([]byte(raw), Limits{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", raw, err)
	}
	return d
}

func TestParseAcceptsTheContract(t *testing.T) {
	t.Parallel()
	d := mustParse(t, `{"key":"pro_buyers","name":"Pro buyers","includeAnonymous":true,"emitOnBuild":true,
	 "condition":{"all":[{"trait":"plan","op":"eq","value":"pro"},
	  {"performed":{"event":"Order Completed","where":[{"property":"total","op":"gte","value":50}],"count":{"op":"gte","value":2},"within":"30d"}},
	  {"not":{"performed":{"type":"page","within":"7d"}}},
	  {"any":[{"trait":"address.city","op":"in","value":["Paris","Lyon"]},{"audience":"vip"}]}]}}`)
	if d.Key != "pro_buyers" || !d.IncludeAnonymous || !d.EmitOnBuild {
		t.Fatalf("definition = %+v", d)
	}
	pf := d.Condition.Children[1].Performed
	if pf.Window != 30*86400 || pf.Count.Value != 2 || pf.Keep() != 3 || pf.ID == "" {
		t.Fatalf("performed = %+v", pf)
	}
	if def := d.Condition.Children[2].Children[0].Performed; def.Count != (CountOp{"gte", 1}) {
		t.Fatalf("count default = %+v", def.Count)
	}
	if refs := d.Condition.References(); len(refs) != 1 || refs[0] != "vip" {
		t.Fatalf("references = %v", refs)
	}
}

func TestParseRefusesNamingThePath(t *testing.T) {
	t.Parallel()
	perf := func(body string) string {
		return `{"key":"a","name":"A","condition":{"all":[{"trait":"x","op":"exists"},{"performed":` + body + `}]}}`
	}
	cases := []struct{ raw, path string }{
		{`[]`, ""},
		{`{"name":"A","condition":{"trait":"x","op":"exists"}}`, "key"},
		{`{"key":"Bad-Key","name":"A","condition":{"trait":"x","op":"exists"}}`, "key"},
		{`{"key":"` + strings.Repeat("a", 65) + `","name":"A","condition":{"trait":"x","op":"exists"}}`, "key"},
		{`{"key":"a","condition":{"trait":"x","op":"exists"}}`, "name"},
		{`{"key":"a","name":"A"}`, "condition"},
		{`{"key":"a","name":"A","condition":null}`, "condition"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"exists"},"extra":1}`, "extra"},
		{`{"key":"a","name":"A","includeAnonymous":"yes","condition":{"trait":"x","op":"exists"}}`, "includeAnonymous"},
		{`{"key":"a","name":"A","condition":{"all":[]}}`, "condition.all"},
		{`{"key":"a","name":"A","condition":{"all":{}}}`, "condition.all"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"exists","all":[]}}`, "condition"},
		{`{"key":"a","name":"A","condition":{}}`, "condition"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"like","value":1}}`, "condition.op"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"eq"}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"exists","value":1}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"gt","value":"soon"}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"gt","value":true}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"in","value":"a"}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"contains","value":1}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"within","value":"7w"}}`, "condition.value"},
		{`{"key":"a","name":"A","condition":{"trait":"a..b","op":"exists"}}`, "condition.trait"},
		{`{"key":"a","name":"A","condition":{"trait":"x","op":"exists","colour":1}}`, "condition.colour"},
		{`{"key":"a","name":"A","condition":{"audience":"a"}}`, "condition"},
		{`{"key":"a","name":"A","condition":{"audience":"Not A Key"}}`, "condition.audience"},
		{`{"key":"a","name":"A","condition":{"not":[]}}`, "condition.not"},
		{perf(`{"event":"X","within":"401d"}`), "condition.all[1].performed.within"},
		{perf(`{"event":"X","within":"0d"}`), "condition.all[1].performed.within"},
		{perf(`{"event":"X","within":"30 days"}`), "condition.all[1].performed.within"},
		{perf(`{"event":"X","within":30}`), "condition.all[1].performed.within"},
		{perf(`{"event":"Audience Entered"}`), "condition.all[1].performed.event"},
		{perf(`{"event":"Audience Exited"}`), "condition.all[1].performed.event"},
		{perf(`{"type":"track"}`), "condition.all[1].performed.type"},
		{perf(`{"event":"X","type":"page"}`), "condition.all[1].performed"},
		{perf(`{}`), "condition.all[1].performed"},
		{perf(`{"event":"X","count":{"op":"gte","value":-1}}`), "condition.all[1].performed.count.value"},
		{perf(`{"event":"X","count":{"op":"gte","value":1.5}}`), "condition.all[1].performed.count.value"},
		{perf(`{"event":"X","count":{"op":"most","value":1}}`), "condition.all[1].performed.count.op"},
		{perf(`{"event":"X","where":[{"property":"total","op":"gte","value":"x"}]}`), "condition.all[1].performed.where[0].value"},
		{perf(`{"event":"X","where":[{"property":"total","op":"nope","value":1}]}`), "condition.all[1].performed.where[0].op"},
		{perf(`{"event":"X","where":[{"op":"eq","value":1}]}`), "condition.all[1].performed.where[0].property"},
		{perf(`{"event":"X","where":{}}`), "condition.all[1].performed.where"},
		{perf(`{"event":"X","when":"now"}`), "condition.all[1].performed.when"},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			_, err := Parse([]byte(c.raw), Limits{})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%s) = %v, want *Error", c.raw, err)
			}
			if e.Path != c.path {
				t.Fatalf("Parse(%s): path %q (%v), want %q", c.raw, e.Path, err, c.path)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	nest := func(depth int) string {
		s := `{"trait":"x","op":"exists"}`
		for i := 1; i < depth; i++ {
			s = `{"not":` + s + `}`
		}
		return `{"key":"a","name":"A","condition":` + s + `}`
	}
	if _, err := Parse([]byte(nest(8)), Limits{}); err != nil {
		t.Fatalf("depth 8 refused: %v", err)
	}
	if _, err := Parse([]byte(nest(9)), Limits{}); err == nil || !strings.Contains(err.Error(), "deeper than 8") {
		t.Fatalf("depth 9: %v", err)
	}
	if _, err := Parse([]byte(nest(5)), Limits{MaxDepth: 4}); err == nil {
		t.Fatal("configured depth 4 let 5 through")
	}
	wide := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = `{"trait":"x","op":"exists"}`
		}
		return `{"key":"a","name":"A","condition":{"any":[` + strings.Join(items, ",") + `]}}`
	}
	if _, err := Parse([]byte(wide(31)), Limits{}); err != nil {
		t.Fatalf("32 nodes refused: %v", err)
	}
	if _, err := Parse([]byte(wide(32)), Limits{}); err == nil || !strings.Contains(err.Error(), "more than 32 nodes") {
		t.Fatalf("33 nodes: %v", err)
	}
	// Huge or deep input is refused before it is decoded.
	if _, err := Parse([]byte(`{"key":"a","name":"`+strings.Repeat("x", MaxDefinitionBytes)+`"}`), Limits{}); err == nil {
		t.Fatal("a huge definition was accepted")
	}
	deep := `{"key":"a","name":"A","condition":{"trait":"x","op":"eq","value":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}}`
	if _, err := Parse([]byte(deep), Limits{}); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("deep value: %v", err)
	}
}

func TestWorkspaceReferences(t *testing.T) {
	t.Parallel()
	a := mustParse(t, `{"key":"a","name":"A","condition":{"audience":"b"}}`)
	b := mustParse(t, `{"key":"b","name":"B","condition":{"all":[{"trait":"x","op":"exists"},{"audience":"c"}]}}`)
	c := mustParse(t, `{"key":"c","name":"C","condition":{"not":{"audience":"a"}}}`)
	var e *Error
	if err := CheckWorkspace([]*Definition{a, b, c}, Limits{}); !errors.As(err, &e) || !strings.Contains(e.Msg, "cycle") {
		t.Fatalf("cycle: %v", err)
	}
	if err := CheckWorkspace([]*Definition{a, b}, Limits{}); !errors.As(err, &e) || e.Path != "condition.all[1].audience" {
		t.Fatalf("missing c: %v", err)
	}
	c2 := mustParse(t, `{"key":"c","name":"C","condition":{"trait":"y","op":"exists"}}`)
	ord, err := Order([]*Definition{a, b, c2})
	if err != nil {
		t.Fatal(err)
	}
	if got := ord[0].Key + ord[1].Key + ord[2].Key; got != "cba" {
		t.Fatalf("order = %s, want cba", got)
	}
	if err := CheckWorkspace([]*Definition{a, b, c2}, Limits{MaxAudiences: 2}); err == nil {
		t.Fatal("three audiences passed a limit of two")
	}
}

func TestDuration(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int64{"1s": 1, "15m": 900, "12h": 43200, "30d": 2592000, "400d": 400 * 86400} {
		if got, err := ParseDuration(s); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "401d", "9601h", "0s", "1w", "-1d", "1.5d", "d", "1D", " 1d", "99999999999d"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) accepted", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"key":"a","name":"A","condition":{"all":[{"trait":"p","op":"eq","value":"x"},{"performed":{"event":"E","within":"1d","count":{"op":"lt","value":3}}}]}}`))
	f.Add([]byte(`{"key":"a","name":"A","condition":{"not":{"audience":"b"}}}`))
	f.Add([]byte(`{"key":"a","name":"A","condition":{"trait":"t","op":"within","value":"7d"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse(raw, Limits{})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// What parses must survive a round trip and evaluate without panicking.
		b, err := MarshalDefinition(d)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(b, Limits{})
		if err != nil {
			t.Fatalf("round trip of %s: %v", b, err)
		}
		sub := &Subject{Traits: DecodeProps([]byte(`{"p":"x","t":"2026-01-01T00:00:00Z","n":[1,{"a":null}]}`))}
		EvaluateOne(d2, sub, fixedNow, map[string]Result{})
	})
}
