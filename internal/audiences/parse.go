package audiences

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxNameLen bounds an audience's display name (in characters).
const maxNameLen = 200

// maxPathLen bounds a dotted trait or property path.
const maxPathLen = 256

// Parse decodes and checks one definition on its own (references to other
// audiences are checked by CheckWorkspace). Every fault is an *Error.
func Parse(raw []byte, lim Limits) (*Definition, error) { return parse(raw, lim, false) }

// previewKey stands for a preview's missing key: no audience can have it
// (keys are a-z, 0-9 and _), so it neither meets a stored one nor refers
// to itself.
const previewKey = "(preview)"

// ParsePreview is Parse for a preview: the key and the name may be left
// out (someone trying conditions has not named the audience yet); given,
// they are checked as Parse checks them.
func ParsePreview(raw []byte, lim Limits) (*Definition, error) { return parse(raw, lim, true) }

func parse(raw []byte, lim Limits, preview bool) (*Definition, error) {
	lim = lim.WithDefaults()
	if len(raw) > MaxDefinitionBytes {
		return nil, fault("", "the definition is over %d bytes", MaxDefinitionBytes)
	}
	if err := checkNesting(raw); err != nil {
		return nil, err
	}
	var top map[string]json.RawMessage
	if err := strictObject(raw, &top); err != nil {
		return nil, fault("", "the definition must be a JSON object: %v", err)
	}
	d := &Definition{}
	for _, k := range sortedKeys(top) {
		v := top[k]
		switch k {
		case "key":
			if err := json.Unmarshal(v, &d.Key); err != nil || !keyRE.MatchString(d.Key) {
				return nil, fault("key", "must be 1 to 64 characters of a-z, 0-9 and _")
			}
		case "name":
			if err := json.Unmarshal(v, &d.Name); err != nil {
				return nil, fault("name", "must be a string")
			}
		case "includeAnonymous":
			if err := json.Unmarshal(v, &d.IncludeAnonymous); err != nil {
				return nil, fault("includeAnonymous", "must be true or false")
			}
		case "emitOnBuild":
			if err := json.Unmarshal(v, &d.EmitOnBuild); err != nil {
				return nil, fault("emitOnBuild", "must be true or false")
			}
		case "condition":
		case "version", "status", "memberCount", "createdAt", "updatedAt", "build":
			// Fields the API answers with: a GET's object may be sent back.
		default:
			return nil, fault(k, "is not a field of an audience")
		}
	}
	if preview && d.Key == "" {
		d.Key = previewKey
	}
	if d.Key == "" {
		return nil, fault("key", "is required")
	}
	d.Name = strings.TrimSpace(d.Name)
	if preview && d.Name == "" {
		d.Name = previewKey
	}
	if d.Name == "" {
		return nil, fault("name", "is required")
	}
	if utf8.RuneCountInString(d.Name) > maxNameLen || !utf8.ValidString(d.Name) {
		return nil, fault("name", "must be valid text of at most %d characters", maxNameLen)
	}
	c, ok := top["condition"]
	if !ok || isNull(c) {
		return nil, fault("condition", "is required")
	}
	p := &parser{lim: lim}
	n, err := p.node(c, "condition", 1)
	if err != nil {
		return nil, err
	}
	d.Condition = n
	for _, ref := range n.References() {
		if ref == d.Key {
			return nil, fault("condition", "refers to the audience itself (%q)", ref)
		}
	}
	return d, nil
}

type parser struct {
	lim   Limits
	nodes int
}

func (p *parser) node(raw json.RawMessage, path string, depth int) (*Node, error) {
	if depth > p.lim.MaxDepth {
		return nil, fault(path, "the condition is deeper than %d levels", p.lim.MaxDepth)
	}
	p.nodes++
	if p.nodes > p.lim.MaxNodes {
		return nil, fault(path, "the condition has more than %d nodes", p.lim.MaxNodes)
	}
	var m map[string]json.RawMessage
	if err := strictObject(raw, &m); err != nil {
		return nil, fault(path, "must be an object with one of all, any, not, trait, performed, audience")
	}
	kinds := 0
	for _, k := range []string{KindAll, KindAny, KindNot, KindTrait, KindPerformed, KindAudience} {
		if _, ok := m[k]; ok {
			kinds++
		}
	}
	if kinds != 1 {
		return nil, fault(path, "must have exactly one of all, any, not, trait, performed, audience")
	}
	switch {
	case has(m, KindAll), has(m, KindAny):
		kind := KindAll
		if has(m, KindAny) {
			kind = KindAny
		}
		if err := onlyKeys(m, path, kind); err != nil {
			return nil, err
		}
		var items []json.RawMessage
		if err := json.Unmarshal(m[kind], &items); err != nil || items == nil {
			return nil, fault(path+"."+kind, "must be an array of conditions")
		}
		if len(items) == 0 {
			return nil, fault(path+"."+kind, "must hold at least one condition")
		}
		n := &Node{Kind: kind}
		for i, it := range items {
			c, err := p.node(it, fmt.Sprintf("%s.%s[%d]", path, kind, i), depth+1)
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, c)
		}
		return n, nil
	case has(m, KindNot):
		if err := onlyKeys(m, path, KindNot); err != nil {
			return nil, err
		}
		c, err := p.node(m[KindNot], path+".not", depth+1)
		if err != nil {
			return nil, err
		}
		return &Node{Kind: KindNot, Children: []*Node{c}}, nil
	case has(m, KindTrait):
		if err := onlyKeys(m, path, KindTrait, "op", "value"); err != nil {
			return nil, err
		}
		var name string
		if err := json.Unmarshal(m[KindTrait], &name); err != nil || !validPath(name) {
			return nil, fault(path+".trait", "must be a trait name (a dotted path for nested objects)")
		}
		pr, err := predicate(m, name, path)
		if err != nil {
			return nil, err
		}
		return &Node{Kind: KindTrait, Trait: pr}, nil
	case has(m, KindPerformed):
		if err := onlyKeys(m, path, KindPerformed); err != nil {
			return nil, err
		}
		pf, err := performed(m[KindPerformed], path+".performed")
		if err != nil {
			return nil, err
		}
		return &Node{Kind: KindPerformed, Performed: pf}, nil
	default:
		if err := onlyKeys(m, path, KindAudience); err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(m[KindAudience], &key); err != nil || !keyRE.MatchString(key) {
			return nil, fault(path+".audience", "must be an audience key")
		}
		return &Node{Kind: KindAudience, Audience: key}, nil
	}
}

// eventTypes are the calls a performed node may count by type; track calls
// are counted by their event name.
var eventTypes = map[string]bool{"page": true, "screen": true, "identify": true, "group": true}

func performed(raw json.RawMessage, path string) (*Performed, error) {
	var m map[string]json.RawMessage
	if err := strictObject(raw, &m); err != nil {
		return nil, fault(path, "must be an object")
	}
	if err := onlyKeys(m, path, "event", "type", "where", "count", "within"); err != nil {
		return nil, err
	}
	pf := &Performed{Count: CountOp{Op: "gte", Value: 1}}
	switch {
	case has(m, "event") && has(m, "type"):
		return nil, fault(path, "takes event or type, not both")
	case has(m, "event"):
		if err := json.Unmarshal(m["event"], &pf.Event); err != nil || pf.Event == "" || len(pf.Event) > 512 {
			return nil, fault(path+".event", "must be an event name")
		}
		if pf.Event == EventEntered || pf.Event == EventExited {
			return nil, fault(path+".event", "%q is reserved for audience transitions", pf.Event)
		}
	case has(m, "type"):
		if err := json.Unmarshal(m["type"], &pf.Type); err != nil || !eventTypes[pf.Type] {
			return nil, fault(path+".type", "must be page, screen, identify or group")
		}
	default:
		return nil, fault(path, "needs event (a track event's name) or type")
	}
	if w, ok := m["where"]; ok {
		var items []json.RawMessage
		if err := json.Unmarshal(w, &items); err != nil {
			return nil, fault(path+".where", "must be an array of property conditions")
		}
		if len(items) > 32 {
			return nil, fault(path+".where", "takes at most 32 property conditions")
		}
		for i, it := range items {
			ip := fmt.Sprintf("%s.where[%d]", path, i)
			var pm map[string]json.RawMessage
			if err := strictObject(it, &pm); err != nil {
				return nil, fault(ip, "must be an object with property, op and value")
			}
			if err := onlyKeys(pm, ip, "property", "op", "value"); err != nil {
				return nil, err
			}
			var prop string
			if err := json.Unmarshal(pm["property"], &prop); err != nil || !validPath(prop) {
				return nil, fault(ip+".property", "must be a property name (a dotted path for nested objects)")
			}
			pr, err := predicate(pm, prop, ip)
			if err != nil {
				return nil, err
			}
			pf.Where = append(pf.Where, pr)
		}
	}
	if c, ok := m["count"]; ok {
		var cm map[string]json.RawMessage
		if err := strictObject(c, &cm); err != nil {
			return nil, fault(path+".count", "must be an object with op and value")
		}
		if err := onlyKeys(cm, path+".count", "op", "value"); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(cm["op"], &pf.Count.Op); err != nil || !countOps[pf.Count.Op] {
			return nil, fault(path+".count.op", "must be one of eq, neq, gt, gte, lt, lte")
		}
		if err := json.Unmarshal(cm["value"], &pf.Count.Value); err != nil || pf.Count.Value < 0 || pf.Count.Value > MaxCount {
			return nil, fault(path+".count.value", "must be a whole number from 0 to %d", MaxCount)
		}
	}
	if w, ok := m["within"]; ok {
		var s string
		if err := json.Unmarshal(w, &s); err != nil {
			return nil, fault(path+".within", "must be a duration such as \"30d\"")
		}
		secs, err := ParseDuration(s)
		if err != nil {
			return nil, fault(path+".within", "%v", err)
		}
		pf.Within, pf.Window = s, secs
	}
	pf.ID = leafID(pf)
	return pf, nil
}

var countOps = map[string]bool{"eq": true, "neq": true, "gt": true, "gte": true, "lt": true, "lte": true}

func predicate(m map[string]json.RawMessage, name, path string) (*Predicate, error) {
	pr := &Predicate{Path: name}
	if err := json.Unmarshal(m["op"], &pr.Op); err != nil || pr.Op == "" {
		return nil, fault(path+".op", "is required: one of %s", strings.Join(opNames(), ", "))
	}
	v, hasValue := m["value"]
	if hasValue {
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, fault(path+".value", "must be JSON")
		}
		pr.Value = buf.Bytes()
	}
	c, err := compile(pr.Op, pr.Value, hasValue)
	if err != nil {
		err.Path = path + err.Path
		return nil, err
	}
	pr.compiled = c
	return pr, nil
}

// CheckWorkspace checks a workspace's definitions together: every
// referenced audience exists, references form no cycle, and the count is
// within the limit. defs is the whole set as it would be stored.
func CheckWorkspace(defs []*Definition, lim Limits) error {
	lim = lim.WithDefaults()
	if len(defs) > lim.MaxAudiences {
		return fault("", "a workspace holds at most %d audiences", lim.MaxAudiences)
	}
	_, err := Order(defs)
	return err
}

// Order sorts definitions so that every audience comes after those it
// refers to, refusing missing keys and cycles with the path of the fault.
func Order(defs []*Definition) ([]*Definition, error) { return order(defs, false) }

func order(defs []*Definition, lenient bool) ([]*Definition, error) {
	byKey := make(map[string]*Definition, len(defs))
	for _, d := range defs {
		byKey[d.Key] = d
	}
	const (
		white = iota
		grey
		black
	)
	state := map[string]int{}
	out := make([]*Definition, 0, len(defs))
	var visit func(d *Definition, chain []string) error
	visit = func(d *Definition, chain []string) error {
		switch state[d.Key] {
		case black:
			return nil
		case grey:
			return fault("condition", "audience references form a cycle: %s", strings.Join(append(chain, d.Key), " → "))
		}
		state[d.Key] = grey
		var err error
		walkPaths(d.Condition, "condition", func(n *Node, path string) {
			if err != nil || n.Kind != KindAudience {
				return
			}
			ref, ok := byKey[n.Audience]
			if !ok && lenient {
				return
			}
			if !ok {
				err = fault(path+".audience", "no audience %q in this workspace", n.Audience)
				return
			}
			err = visit(ref, append(chain, d.Key))
		})
		if err != nil {
			return err
		}
		state[d.Key] = black
		out = append(out, d)
		return nil
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := visit(byKey[k], nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// walkPaths is Walk with each node's path in the definition.
func walkPaths(n *Node, path string, fn func(*Node, string)) {
	fn(n, path)
	switch n.Kind {
	case KindAll, KindAny:
		for i, c := range n.Children {
			walkPaths(c, fmt.Sprintf("%s.%s[%d]", path, n.Kind, i), fn)
		}
	case KindNot:
		walkPaths(n.Children[0], path+".not", fn)
	}
}

func has(m map[string]json.RawMessage, k string) bool { _, ok := m[k]; return ok }

func onlyKeys(m map[string]json.RawMessage, path string, allowed ...string) error {
	for _, k := range sortedKeys(m) {
		ok := false
		for _, a := range allowed {
			ok = ok || k == a
		}
		if !ok {
			return fault(path+"."+k, "is not allowed here")
		}
	}
	return nil
}

func sortedKeys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isNull(r json.RawMessage) bool { return string(bytes.TrimSpace(r)) == "null" }

// strictObject decodes a JSON object, refusing duplicate keys (which would
// let two readers see two different definitions).
func strictObject(raw []byte, out *map[string]json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("not an object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return err
	}
	m := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
		if _, dup := m[k]; dup {
			return fmt.Errorf("the key %q appears twice", k)
		}
		m[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	if _, err := dec.Token(); err == nil {
		return fmt.Errorf("trailing data")
	}
	*out = m
	return nil
}

// checkNesting refuses JSON nested deeper than maxRawDepth before any
// decoding allocates for it.
func checkNesting(raw []byte) error {
	depth, inStr, esc := 0, false, false
	for _, b := range raw {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case b == '\\':
				esc = true
			case b == '"':
				inStr = false
			}
		case b == '"':
			inStr = true
		case b == '{' || b == '[':
			depth++
			if depth > maxRawDepth {
				return fault("", "the definition is nested deeper than %d levels", maxRawDepth)
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

func validPath(p string) bool {
	if p == "" || len(p) > maxPathLen || !utf8.ValidString(p) {
		return false
	}
	for _, part := range strings.Split(p, ".") {
		if part == "" {
			return false
		}
	}
	return true
}
