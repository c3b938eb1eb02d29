package journeys_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/journeys"
)

const issueExample = `{"key": "abandoned_cart", "name": "Abandoned cart", "enabled": true,
 "trigger": {"event": {"event": "Checkout Started", "where": [{"property": "total", "op": "gt", "value": 10}]}},
 "reentry": "always",
 "exitOn": {"event": {"event": "Order Completed", "match": ["cartId"]}},
 "steps": [
   {"id": "wait1", "wait": "1h"},
   {"id": "nudge", "email": {"template": "cart_nudge", "group": "reminders"}},
   {"id": "bought", "waitFor": {"event": {"event": "Order Completed", "match": ["cartId"]},
      "timeout": "1d", "then": [], "onTimeout": [
        {"id": "last", "email": {"template": "cart_last_call", "group": "reminders"}}]}},
   {"id": "vip", "branch": {"if": {"trait": "plan", "op": "eq", "value": "pro"},
      "then": [{"id": "crm", "webhook": {"destination": "crm-hook"}}], "else": []}},
   {"id": "trial", "wait": {"until": "trait:trial_ends_at"}}
 ]}`

// The issue's contract parses into typed steps, walks in document order,
// and survives a round trip through its stored form unchanged.
func TestParseContract(t *testing.T) {
	t.Parallel()
	d, err := journeys.Parse([]byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	d.Walk(func(s *journeys.Step, path string, depth int) {
		got = append(got, s.ID+":"+s.Kind()+":"+path)
	})
	want := "wait1:wait:steps[0] nudge:email:steps[1] bought:waitFor:steps[2] last:email:steps[2].waitFor.onTimeout[0] " +
		"vip:branch:steps[3] crm:webhook:steps[3].branch.then[0] trial:wait:steps[4]"
	if strings.Join(got, " ") != want {
		t.Errorf("walk\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if w := d.Step("bought").WaitFor; w.TimeoutDuration().Hours() != 24 || w.Event.Match[0] != "cartId" {
		t.Errorf("waitFor %+v", w)
	}
	if u := d.Step("trial").Wait; u.Until != "trial_ends_at" {
		t.Errorf("until %+v", u)
	}
	if m := d.MatchProperties(); len(m) != 1 || m[0] != "cartId" {
		t.Errorf("match properties %v", m)
	}
	b1, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := journeys.Parse(b1)
	if err != nil {
		t.Fatalf("stored form does not parse: %v\n%s", err, b1)
	}
	if b2, _ := json.Marshal(d2); string(b1) != string(b2) {
		t.Errorf("round trip changed it:\n%s\n%s", b1, b2)
	}
}

// Faults name their path.
func TestParseFaults(t *testing.T) {
	t.Parallel()
	pre := `{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"steps":`
	for _, c := range []struct{ def, path string }{
		{pre + `[{"id":"a","wait":"1s"},{"id":"b","waitFor":{"event":{"event":"Y"},"timeout":"1h","then":[{"id":"a","wait":"1s"}]}}]}`, "steps[1].waitFor.then[0].id"},
		{pre + `[{"id":"a","wait":"366d"}]}`, "steps[0].wait"},
		{pre + `[{"id":"a","wait":"0s"}]}`, "steps[0].wait"},
		{pre + `[{"id":"a","wait":{"until":"plan"}}]}`, "steps[0].wait.until"},
		{pre + `[{"id":"a","waitFor":{"audience":"x","timeout":"2y"}}]}`, "steps[0].waitFor.timeout"},
		{pre + `[{"id":"a","branch":{"if":{"trait":"plan","op":"nope","value":1},"then":[]}}]}`, "steps[0].branch.if.op"},
		{pre + `[{"id":"a","webhook":{}}]}`, "steps[0].webhook.destination"},
		{pre + `[{"id":"a","email":{"template":"t"},"wait":"1s"}]}`, "steps[0]"},
		{pre + `[{"id":"a","bogus":1}]}`, "steps[0].bogus"},
		{`{"key":"j","name":"J","trigger":{"audienceEntered":"vip"},"steps":[{"id":"a","waitFor":{"event":{"event":"Y","match":["k"]},"timeout":"1h"}}]}`, "steps[0].waitFor"},
		{`{"key":"j","name":"J","trigger":{"broadcast":"vip"},"exitOn":{"event":{"event":"Y","match":["k"]}},"steps":[]}`, "exitOn"},
		{`{"key":"j","name":"J","trigger":{"event":{"event":"X","match":["k"]}},"steps":[]}`, "trigger.event.match"},
		{`{"key":"j","name":"J","trigger":{"event":{"event":"X","where":[{"property":"a","op":"eq"}]}},"steps":[]}`, "trigger.event.where[0].value"},
		{`{"key":"j","name":"J","trigger":{},"steps":[]}`, "trigger"},
		{`{"key":"j","name":"J","trigger":{"event":{"event":"X"}},"reentry":"sometimes","steps":[]}`, "reentry"},
		{pre + `[{"id":"a","branch":{"if":{"trait":"p","op":"exists"},"then":[` + strings.Repeat(`{"id":"x","wait":"1s"},`, 0) + nested(100) + `]}}]}`, "steps"},
	} {
		_, err := journeys.Parse([]byte(c.def))
		var je *journeys.Error
		if !errors.As(err, &je) || je.Path != c.path {
			t.Errorf("%.90s: %v, want a fault at %s", c.def, err, c.path)
		}
	}
	if _, err := journeys.Parse([]byte(pre + `[{"id":"a","wait":"5s"}]}`)); err != nil {
		t.Errorf("5s: %v", err)
	}
}

// nested is n wait steps with distinct ids.
func nested(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"id":"n` + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + `_` + string(rune('a'+i/26)) + `","wait":"1s"}`
	}
	return strings.Join(parts, ",")
}
