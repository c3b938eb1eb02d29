package audiences

import (
	"encoding/json"
	"reflect"
	"testing"
)

// properties answers what decoding the whole event with encoding/json
// answers (numbers exact, escapes, nested values, the last of duplicate
// keys), for the keys asked and no others.
func TestPropertiesAsEncodingJSON(t *testing.T) {
	t.Parallel()
	raws := []string{
		`{"type":"track","properties":{"n":1.50,"big":12345678901234567890,"neg":-0.0e1,"nul":null,"t":true,"f":false}}`,
		`{"properties":{"s":"plain","e":"é \"q\" \u00e9 \ud83d\ude00","lone":"\ud800","obj":{"d":[1,"two",{"x":null}]},"arr":[]}}`,
		`{"properties":{"k":1,"k":2},"context":{"properties":{"k":3}}}`,
		`{"properties":{"k":1},"properties":{"k":"last"}}`,
		`{"properties":{"x.y":"dot","x":{"y":"nested"}}}`,
		`{"properties":"not an object"}`,
		`{"properties":null}`,
		`{"context":{"properties":{"k":1}}}`,
		`[1,2]`,
		`{"properties":{}}`,
	}
	for _, raw := range raws {
		var e struct {
			Properties json.RawMessage `json:"properties"`
		}
		var want map[string]any
		if json.Unmarshal([]byte(raw), &e) == nil && len(e.Properties) > 0 {
			want = DecodeProps(e.Properties)
		}
		got := properties([]byte(raw), nil)
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", raw, got, want)
		}
	}
	got := properties([]byte(`{"properties":{"a":1,"b":{"c":2},"x.y":3,"z":4}}`), map[string]bool{"b": true, "x.y": true})
	want := map[string]any{"b": map[string]any{"c": json.Number("2")}, "x.y": json.Number("3")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("picked %#v, want %#v", got, want)
	}
}
