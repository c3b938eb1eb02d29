package audiences

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

var fixedNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func traitDef(t testing.TB, path, op, value string) *Definition {
	t.Helper()
	v := ""
	if value != "" {
		v = `,"value":` + value
	}
	return mustParse(t, fmt.Sprintf(`{"key":"t","name":"T","condition":{"trait":%q,"op":%q%s}}`, path, op, v))
}

func TestTraitOps(t *testing.T) {
	t.Parallel()
	traits := DecodeProps([]byte(`{"plan":"pro","one":1,"onestr":"1","price":9.5,"flag":true,"nul":null,
		"when":"2026-05-30T12:00:00Z","address":{"city":"Paris"},"a.b":"literal","tags":["x","y"],"obj":{"k":[1,2]}}`))
	sub := &Subject{UserID: "u", Traits: traits}
	cases := []struct {
		path, op, value string
		want            bool
	}{
		{"plan", "eq", `"pro"`, true},
		{"plan", "eq", `"Pro"`, false},
		{"one", "eq", `"1"`, false},
		{"onestr", "eq", `1`, false},
		{"one", "eq", `1.0`, true},
		{"flag", "eq", `true`, true},
		{"flag", "eq", `"true"`, false},
		{"nul", "eq", `null`, true},
		{"missing", "eq", `null`, false},
		{"obj", "eq", `{"k":[1,2]}`, true},
		{"obj", "eq", `{"k":[2,1]}`, false},
		{"plan", "neq", `"free"`, true},
		{"plan", "neq", `"pro"`, false},
		{"missing", "neq", `"pro"`, true},
		{"one", "neq", `"1"`, true},
		{"price", "gt", `9`, true},
		{"price", "gt", `9.5`, false},
		{"price", "gte", `9.5`, true},
		{"price", "lt", `10`, true},
		{"price", "lte", `9`, false},
		{"onestr", "gt", `0`, false},
		{"plan", "gt", `0`, false},
		{"when", "gt", `"2026-05-30T11:00:00Z"`, true},
		{"when", "lt", `"2026-05-30T13:00:00-02:00"`, true},
		{"plan", "lt", `"2026-05-30T13:00:00Z"`, false},
		{"one", "lt", `"2026-05-30T13:00:00Z"`, false},
		{"plan", "exists", ``, true},
		{"nul", "exists", ``, false},
		{"missing", "exists", ``, false},
		{"missing", "not_exists", ``, true},
		{"nul", "not_exists", ``, true},
		{"plan", "not_exists", ``, false},
		{"plan", "contains", `"r"`, true},
		{"plan", "contains", `"x"`, false},
		{"one", "contains", `"1"`, false},
		{"plan", "starts_with", `"pr"`, true},
		{"plan", "starts_with", `"ro"`, false},
		{"plan", "in", `["free","pro"]`, true},
		{"one", "in", `["1"]`, false},
		{"one", "in", `[1]`, true},
		{"tags", "in", `["x"]`, false},
		{"address.city", "eq", `"Paris"`, true},
		{"address.zip", "exists", ``, false},
		{"plan.x", "exists", ``, false},
		{"a.b", "eq", `"literal"`, true},
		{"when", "within", `"3d"`, true},
		{"when", "within", `"1d"`, false},
		{"plan", "within", `"1d"`, false},
		{"one", "within", `"1d"`, false},
	}
	for _, c := range cases {
		d := traitDef(t, c.path, c.op, c.value)
		if got := EvaluateOne(d, sub, fixedNow, nil); got.Member != c.want {
			t.Errorf("%s %s %s: %v, want %v", c.path, c.op, c.value, got.Member, c.want)
		}
	}
}

func TestWithinTraitNextChange(t *testing.T) {
	t.Parallel()
	d := traitDef(t, "when", "within", `"3d"`)
	sub := &Subject{UserID: "u", Traits: DecodeProps([]byte(`{"when":"2026-05-30T12:00:00Z"}`))}
	r := EvaluateOne(d, sub, fixedNow, nil)
	edge := time.Date(2026, 6, 2, 12, 0, 0, 1000, time.UTC)
	if !r.Member || !r.Next.Equal(edge) {
		t.Fatalf("result %v next %v, want true and %v", r.Member, r.Next, edge)
	}
	if EvaluateOne(d, sub, edge, nil).Member {
		t.Fatal("still a member after the edge")
	}
	n := mustParse(t, `{"key":"n","name":"N","condition":{"not":{"trait":"when","op":"within","value":"3d"}}}`)
	if r := EvaluateOne(n, sub, fixedNow, nil); r.Member || !r.Next.Equal(edge) {
		t.Fatalf("not within: %v next %v", r.Member, r.Next)
	}
	if !EvaluateOne(n, sub, edge, nil).Member {
		t.Fatal("under not, the user does not enter at the edge")
	}
}

func TestPerformedWindow(t *testing.T) {
	t.Parallel()
	d := mustParse(t, `{"key":"p","name":"P","condition":{"performed":{"event":"Order Completed",
		"where":[{"property":"total","op":"gte","value":50}],"count":{"op":"gte","value":2},"within":"30d"}}}`)
	set, err := NewSet([]*Definition{d})
	if err != nil {
		t.Fatal(err)
	}
	leaf := d.Condition.Performed
	props := DecodeProps([]byte(`{"total":60}`))
	if len(set.Matching("track", "Order Completed", props, fixedNow)) != 1 {
		t.Fatal("a matching event is not counted")
	}
	if len(set.Matching("track", "Order Completed", DecodeProps([]byte(`{"total":"60"}`)), fixedNow)) != 0 ||
		len(set.Matching("track", "Order Completed", nil, fixedNow)) != 0 ||
		len(set.Matching("track", "order completed", props, fixedNow)) != 0 ||
		len(set.Matching("page", "Order Completed", props, fixedNow)) != 0 {
		t.Fatal("a non-matching event is counted")
	}
	st := &LeafState{}
	day := 24 * time.Hour
	// Arrival order does not matter: newest kept, oldest dropped.
	for _, ago := range []time.Duration{40 * day, 10 * day, 50 * day, 20 * day} {
		st.Add(fixedNow.Add(-ago), leaf.Keep())
	}
	if len(st.Stamps) != 3 || st.Count != 4 {
		t.Fatalf("state = %+v", st)
	}
	sub := &Subject{UserID: "u", States: map[string]*LeafState{leaf.ID: st}}
	r := EvaluateOne(d, sub, fixedNow, nil)
	// Two in the window (10 and 20 days ago); it flips when the older leaves.
	wantNext := fixedNow.Add(-20 * day).Add(30*day + time.Millisecond)
	if !r.Member || !r.Next.Equal(wantNext) || r.Tree.Seen != int64(2) {
		t.Fatalf("member %v next %v seen %v; want true %v 2", r.Member, r.Next, r.Tree.Seen, wantNext)
	}
	if EvaluateOne(d, sub, wantNext.Add(-time.Millisecond), nil).Member != true {
		t.Fatal("left before the edge")
	}
	if EvaluateOne(d, sub, wantNext, nil).Member {
		t.Fatal("still a member past the edge")
	}
}

func TestCountOpsNextChange(t *testing.T) {
	t.Parallel()
	hour := time.Hour
	stamps := []time.Duration{1 * hour, 2 * hour, 3 * hour} // ages
	cases := []struct {
		op      string
		value   int
		want    bool
		nextAge time.Duration // the age whose leaving flips it; 0: never
	}{
		{"gte", 2, true, 2 * hour},
		{"gte", 4, false, 0},
		{"gt", 2, true, 3 * hour},
		{"eq", 3, true, 3 * hour},
		{"eq", 1, false, 2 * hour},
		{"neq", 3, false, 3 * hour},
		{"lt", 3, false, 3 * hour},
		{"lt", 1, false, 1 * hour},
		{"lte", 0, false, 1 * hour},
		{"gte", 0, true, 0},
	}
	for _, c := range cases {
		d := mustParse(t, fmt.Sprintf(`{"key":"c","name":"C","condition":{"performed":{"type":"page","count":{"op":%q,"value":%d},"within":"5h"}}}`, c.op, c.value))
		leaf := d.Condition.Performed
		st := &LeafState{}
		for _, a := range stamps {
			st.Add(fixedNow.Add(-a), leaf.Keep())
		}
		r := EvaluateOne(d, &Subject{UserID: "u", States: map[string]*LeafState{leaf.ID: st}}, fixedNow, nil)
		var want time.Time
		if c.nextAge != 0 {
			want = fixedNow.Add(-c.nextAge).Add(5*hour + time.Millisecond)
		}
		if r.Member != c.want || !r.Next.Equal(want) {
			t.Errorf("%s %d: %v next %v; want %v %v", c.op, c.value, r.Member, r.Next, c.want, want)
		}
		if !want.IsZero() && EvaluateOne(d, &Subject{UserID: "u", States: map[string]*LeafState{leaf.ID: st}}, want, nil).Member == c.want {
			t.Errorf("%s %d: did not flip at %v", c.op, c.value, want)
		}
	}
}

func TestUnionAndReferences(t *testing.T) {
	t.Parallel()
	base := mustParse(t, `{"key":"base","name":"B","condition":{"performed":{"event":"E","count":{"op":"gte","value":2}}}}`)
	top := mustParse(t, `{"key":"top","name":"T","condition":{"all":[{"audience":"base"},{"trait":"x","op":"exists"}]}}`)
	anon := mustParse(t, `{"key":"anon","name":"A","includeAnonymous":true,"condition":{"audience":"base"}}`)
	set, err := NewSet([]*Definition{top, anon, base})
	if err != nil {
		t.Fatal(err)
	}
	leaf := base.Condition.Performed
	a, b := &LeafState{}, &LeafState{}
	a.Add(fixedNow, 0)
	b.Add(fixedNow, 0)
	u := &LeafState{}
	u.Union(a, 0)
	u.Union(b, 0)
	sub := &Subject{Traits: map[string]any{"x": json.Number("1")}, States: map[string]*LeafState{leaf.ID: u}}
	res := set.Evaluate(sub, fixedNow)
	if res["base"].Member || res["top"].Member {
		t.Fatal("an anonymous profile is a member without includeAnonymous")
	}
	if res["anon"].Member {
		t.Fatal("an audience node reads membership, and the anonymous profile is not a member of base")
	}
	sub.UserID = "u"
	res = set.Evaluate(sub, fixedNow)
	if !res["base"].Member || !res["top"].Member {
		t.Fatalf("union of two identities' states: %+v", res)
	}
}
