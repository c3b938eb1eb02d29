package journeys

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/config"
)

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// propPattern bounds a match's property name (a dotted path).
var propPattern = regexp.MustCompile(`^[A-Za-z0-9_$][A-Za-z0-9_$.-]{0,127}$`)

func sortStrings(s []string) { sort.Strings(s) }

// Parse reads a definition strictly (unknown fields refused) and checks
// its shape, naming the path of the first fault; Check then checks what
// it names against the store.
func Parse(raw []byte) (*Definition, error) {
	if len(raw) > MaxDefinitionBytes {
		return nil, fault("", "the definition is over %d bytes", MaxDefinitionBytes)
	}
	top, err := object(raw, "", "key", "name", "enabled", "trigger", "reentry", "exitOn", "steps")
	if err != nil {
		return nil, err
	}
	d := &Definition{index: map[string]*place{}}
	if json.Unmarshal(top["key"], &d.Key) != nil || !keyPattern.MatchString(d.Key) {
		return nil, fault("key", "1 to 64 letters, digits, _ . or -")
	}
	if json.Unmarshal(top["name"], &d.Name) != nil || d.Name == "" || len(d.Name) > 200 {
		return nil, fault("name", "1 to 200 bytes")
	}
	if v, ok := top["enabled"]; ok && json.Unmarshal(v, &d.Enabled) != nil {
		return nil, fault("enabled", "true or false")
	}
	if v, ok := top["reentry"]; ok && json.Unmarshal(v, &d.Reentry) != nil {
		return nil, fault("reentry", "never or always")
	}
	switch d.Reentry {
	case "":
		d.Reentry = "never"
	case "never", "always":
	default:
		return nil, fault("reentry", "never or always")
	}
	if err := d.parseTrigger(top["trigger"]); err != nil {
		return nil, err
	}
	eventTrigger := d.Trigger.Event != nil
	if v, ok := top["exitOn"]; ok && !isNull(v) {
		m, err := object(v, "exitOn", "event")
		if err != nil {
			return nil, err
		}
		em, err := eventMatch(m["event"], "exitOn.event", true)
		if err != nil {
			return nil, err
		}
		if len(em.Match) > 0 && !eventTrigger {
			return nil, fault("exitOn", "match compares with the triggering event's properties: only an event trigger has them")
		}
		d.ExitOn = &ExitOn{Event: em}
	}
	p := &parser{d: d, eventTrigger: eventTrigger}
	if d.Steps, err = p.steps(top["steps"], "steps", nil); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Definition) parseTrigger(raw json.RawMessage) error {
	m, err := object(raw, "trigger", "event", "audienceEntered", "broadcast")
	if err != nil {
		return err
	}
	if len(m) != 1 {
		return fault("trigger", "exactly one of event, audienceEntered or broadcast")
	}
	switch {
	case m["event"] != nil:
		em, err := eventMatch(m["event"], "trigger.event", false)
		if err != nil {
			return err
		}
		d.Trigger.Event = em
	case m["audienceEntered"] != nil:
		if json.Unmarshal(m["audienceEntered"], &d.Trigger.AudienceEntered) != nil || !keyPattern.MatchString(d.Trigger.AudienceEntered) {
			return fault("trigger.audienceEntered", "an audience key")
		}
	default:
		if json.Unmarshal(m["broadcast"], &d.Trigger.Broadcast) != nil || !keyPattern.MatchString(d.Trigger.Broadcast) {
			return fault("trigger.broadcast", "an audience key")
		}
	}
	return nil
}

// eventMatch reads {"event", "where", "match"}; match only where allowed.
func eventMatch(raw json.RawMessage, path string, allowMatch bool) (*EventMatch, error) {
	keys := []string{"event", "where"}
	if allowMatch {
		keys = append(keys, "match")
	}
	m, err := object(raw, path, keys...)
	if err != nil {
		return nil, err
	}
	em := &EventMatch{}
	if json.Unmarshal(m["event"], &em.Event) != nil || em.Event == "" || len(em.Event) > 512 {
		return nil, fault(path+".event", "the event name is required")
	}
	if w := m["where"]; len(w) > 0 && !isNull(w) {
		var buf bytes.Buffer
		if err := json.Compact(&buf, w); err != nil {
			return nil, fault(path+".where", "an array of property conditions")
		}
		em.Where = buf.Bytes()
	}
	leaf, err := audiences.ParseEventMatch(em.Event, em.Where, path)
	var ae *audiences.Error
	if errors.As(err, &ae) {
		return nil, fault(ae.Path, "%s", ae.Msg)
	}
	if err != nil {
		return nil, fault(path, "%s", err.Error())
	}
	em.leaf = leaf
	if v, ok := m["match"]; ok && !isNull(v) {
		if json.Unmarshal(v, &em.Match) != nil || len(em.Match) > maxMatch {
			return nil, fault(path+".match", "an array of at most %d property names", maxMatch)
		}
		for i, p := range em.Match {
			if !propPattern.MatchString(p) {
				return nil, fault(fmt.Sprintf("%s.match[%d]", path, i), "a property name")
			}
		}
	}
	return em, nil
}

type parser struct {
	d            *Definition
	eventTrigger bool
	count        int
}

func (p *parser) steps(raw json.RawMessage, path string, parent *Step) ([]*Step, error) {
	var items []json.RawMessage
	if len(raw) == 0 || isNull(raw) {
		if parent == nil {
			return nil, fault(path, "an array of steps is required")
		}
		return []*Step{}, nil
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fault(path, "an array of steps")
	}
	// Counted before any is read: a list too long is refused as such,
	// whatever faults its steps hold.
	if p.count += len(items); p.count > MaxSteps {
		return nil, fault("steps", "at most %d steps in all, nested ones included", MaxSteps)
	}
	out := make([]*Step, 0, len(items))
	for i, it := range items {
		s, err := p.step(it, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	for i, s := range out {
		p.d.index[s.ID] = &place{list: out, i: i, parent: parent}
	}
	return out, nil
}

func (p *parser) step(raw json.RawMessage, path string) (*Step, error) {
	m, err := object(raw, path, "id", KindWait, KindEmail, KindWaitFor, KindBranch, KindWebhook)
	if err != nil {
		return nil, err
	}
	s := &Step{}
	if json.Unmarshal(m["id"], &s.ID) != nil || !keyPattern.MatchString(s.ID) {
		return nil, fault(path+".id", "1 to 64 letters, digits, _ . or -")
	}
	if _, dup := p.d.index[s.ID]; dup {
		return nil, fault(path+".id", "duplicate step id %q", s.ID)
	}
	p.d.index[s.ID] = &place{} // claimed now; placed once its list is read
	if len(m) != 2 {
		return nil, fault(path, "exactly one of wait, email, waitFor, branch, webhook")
	}
	switch {
	case m[KindWait] != nil:
		s.Wait, err = parseWait(m[KindWait], path+".wait")
	case m[KindEmail] != nil:
		var e map[string]json.RawMessage
		if e, err = object(m[KindEmail], path+".email", "template", "group", "trait"); err != nil {
			return nil, err
		}
		s.Email = &EmailStep{}
		if json.Unmarshal(e["template"], &s.Email.Template) != nil || !keyPattern.MatchString(s.Email.Template) {
			return nil, fault(path+".email.template", "required: a template key")
		}
		if v, ok := e["group"]; ok && (json.Unmarshal(v, &s.Email.Group) != nil || s.Email.Group != "" && !keyPattern.MatchString(s.Email.Group)) {
			return nil, fault(path+".email.group", "a subscription group key")
		}
		if v, ok := e["trait"]; ok && (json.Unmarshal(v, &s.Email.Trait) != nil || !propPattern.MatchString(s.Email.Trait)) {
			return nil, fault(path+".email.trait", "a trait name")
		}
	case m[KindWaitFor] != nil:
		s.WaitFor, err = p.waitFor(m[KindWaitFor], path+".waitFor", s)
	case m[KindBranch] != nil:
		s.Branch, err = p.branch(m[KindBranch], path+".branch", s)
	default:
		var w map[string]json.RawMessage
		if w, err = object(m[KindWebhook], path+".webhook", "destination"); err != nil {
			return nil, err
		}
		s.Webhook = &WebhookStep{}
		if json.Unmarshal(w["destination"], &s.Webhook.Destination) != nil || s.Webhook.Destination == "" || len(s.Webhook.Destination) > 200 {
			return nil, fault(path+".webhook.destination", "required: a destination's name")
		}
	}
	return s, err
}

func parseWait(raw json.RawMessage, path string) (*Wait, error) {
	var text string
	if json.Unmarshal(raw, &text) == nil {
		d, err := config.ParseShortDuration(text)
		if err != nil || d > MaxWait {
			return nil, fault(path, "a duration from 1s to 365d such as 30s, 5m, 1h or 7d")
		}
		return &Wait{Duration: d, text: text}, nil
	}
	m, err := object(raw, path, "until")
	if err != nil {
		return nil, fault(path, "a duration such as \"1h\", or {\"until\": \"trait:name\"}")
	}
	var until string
	if json.Unmarshal(m["until"], &until) != nil || !strings.HasPrefix(until, "trait:") || !propPattern.MatchString(strings.TrimPrefix(until, "trait:")) {
		return nil, fault(path+".until", "\"trait:\" and a trait's name, such as \"trait:trial_ends_at\"")
	}
	return &Wait{Until: strings.TrimPrefix(until, "trait:")}, nil
}

func (p *parser) waitFor(raw json.RawMessage, path string, s *Step) (*WaitFor, error) {
	m, err := object(raw, path, "event", "audience", "timeout", "then", "onTimeout")
	if err != nil {
		return nil, err
	}
	w := &WaitFor{}
	switch {
	case m["event"] != nil && m["audience"] != nil, m["event"] == nil && m["audience"] == nil:
		return nil, fault(path, "exactly one of event or audience")
	case m["event"] != nil:
		if w.Event, err = eventMatch(m["event"], path+".event", true); err != nil {
			return nil, err
		}
		if len(w.Event.Match) > 0 && !p.eventTrigger {
			return nil, fault(path, "match compares with the triggering event's properties: only an event trigger has them")
		}
	default:
		if json.Unmarshal(m["audience"], &w.Audience) != nil || !keyPattern.MatchString(w.Audience) {
			return nil, fault(path+".audience", "an audience key")
		}
	}
	if json.Unmarshal(m["timeout"], &w.Timeout) != nil {
		return nil, fault(path+".timeout", "required: a duration from 1s to 365d such as 30s, 5m, 1h or 7d")
	}
	if w.timeout, err = config.ParseShortDuration(w.Timeout); err != nil || w.timeout > MaxWait {
		return nil, fault(path+".timeout", "a duration from 1s to 365d such as 30s, 5m, 1h or 7d")
	}
	if w.Then, err = p.steps(m["then"], path+".then", s); err != nil {
		return nil, err
	}
	if w.OnTimeout, err = p.steps(m["onTimeout"], path+".onTimeout", s); err != nil {
		return nil, err
	}
	return w, nil
}

func (p *parser) branch(raw json.RawMessage, path string, s *Step) (*Branch, error) {
	m, err := object(raw, path, "if", "then", "else")
	if err != nil {
		return nil, err
	}
	if m["if"] == nil {
		return nil, fault(path+".if", "required: a condition (trait, performed, audience, all, any, not)")
	}
	b := &Branch{}
	cond, err := audiences.ParseCondition(m["if"], path+".if")
	var ae *audiences.Error
	if errors.As(err, &ae) {
		return nil, fault(ae.Path, "%s", ae.Msg)
	}
	if err != nil {
		return nil, fault(path+".if", "%s", err.Error())
	}
	b.If = cond
	if b.Then, err = p.steps(m["then"], path+".then", s); err != nil {
		return nil, err
	}
	if b.Else, err = p.steps(m["else"], path+".else", s); err != nil {
		return nil, err
	}
	return b, nil
}

// object decodes a JSON object, refusing keys outside allowed (nil
// allowed: any key). Keys holding null are dropped.
func object(raw json.RawMessage, path string, allowed ...string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if len(raw) == 0 || isNull(raw) || json.Unmarshal(raw, &m) != nil || m == nil {
		what := path
		if what == "" {
			what = "the definition"
		}
		return nil, fault(path, "%s must be a JSON object", what)
	}
	for k, v := range m {
		if isNull(v) {
			delete(m, k)
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			at := k
			if path != "" {
				at = path + "." + k
			}
			return nil, fault(at, "not a field here (one of %s)", strings.Join(allowed, ", "))
		}
	}
	return m, nil
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }
