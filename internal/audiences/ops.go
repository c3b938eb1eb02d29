package audiences

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The predicate operators of the contract.
var opDocs = map[string]string{
	"eq": "equal, same JSON type", "neq": "not equal", "gt": "greater", "gte": "greater or equal",
	"lt": "less", "lte": "less or equal", "exists": "present and not null", "not_exists": "absent or null",
	"contains": "string contains", "in": "equal to one of an array", "starts_with": "string prefix",
	"within": "a time no older than a duration",
}

func opNames() []string {
	out := make([]string, 0, len(opDocs))
	for k := range opDocs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// compiled is a predicate's value decoded once, at parse time.
type compiled struct {
	op      string
	value   any       // decoded JSON (json.Number for numbers) for eq, neq, in
	num     float64   // gt…lte on numbers
	isTime  bool      // gt…lte on RFC 3339 times
	t       time.Time // the time for those
	str     string    // contains, starts_with
	set     []any     // in
	seconds int64     // within
}

func compile(op string, raw json.RawMessage, hasValue bool) (compiled, *Error) {
	c := compiled{op: op}
	if _, ok := opDocs[op]; !ok {
		return c, &Error{Path: ".op", Msg: fmt.Sprintf("unknown op %q: one of %s", op, strings.Join(opNames(), ", "))}
	}
	needValue := op != "exists" && op != "not_exists"
	if !needValue {
		if hasValue {
			return c, &Error{Path: ".value", Msg: fmt.Sprintf("%s takes no value", op)}
		}
		return c, nil
	}
	if !hasValue {
		return c, &Error{Path: ".value", Msg: fmt.Sprintf("%s needs a value", op)}
	}
	v, err := decodeValue(raw)
	if err != nil {
		return c, &Error{Path: ".value", Msg: "must be JSON"}
	}
	switch op {
	case "eq", "neq":
		c.value = v
	case "gt", "gte", "lt", "lte":
		switch x := v.(type) {
		case json.Number:
			f, err := x.Float64()
			if err != nil || math.IsInf(f, 0) {
				return c, &Error{Path: ".value", Msg: "must be a finite number"}
			}
			c.num = f
		case string:
			t, err := time.Parse(time.RFC3339Nano, x)
			if err != nil {
				return c, &Error{Path: ".value", Msg: fmt.Sprintf("%s compares numbers or RFC 3339 times; %q is neither", op, x)}
			}
			c.isTime, c.t = true, t
		default:
			return c, &Error{Path: ".value", Msg: fmt.Sprintf("%s compares numbers or RFC 3339 times", op)}
		}
	case "contains", "starts_with":
		s, ok := v.(string)
		if !ok {
			return c, &Error{Path: ".value", Msg: fmt.Sprintf("%s takes a string", op)}
		}
		c.str = s
	case "in":
		arr, ok := v.([]any)
		if !ok {
			return c, &Error{Path: ".value", Msg: "in takes an array"}
		}
		if len(arr) > 1000 {
			return c, &Error{Path: ".value", Msg: "in takes at most 1000 values"}
		}
		c.set = arr
	case "within":
		s, ok := v.(string)
		if !ok {
			return c, &Error{Path: ".value", Msg: "within takes a duration such as \"7d\""}
		}
		secs, err := ParseDuration(s)
		if err != nil {
			return c, &Error{Path: ".value", Msg: err.Error()}
		}
		c.seconds = secs
	}
	return c, nil
}

func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

var durationRE = regexp.MustCompile(`^([0-9]{1,9})([smhd])$`)

// MaxWindow is the longest within: 400 days.
const MaxWindow = 400 * 24 * 3600

// ParseDuration reads "30s", "15m", "12h", "30d" into seconds, refusing
// zero and anything over 400 days.
func ParseDuration(s string) (int64, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a duration: a whole number and s, m, h or d (\"30d\")", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]int64{"s": 1, "m": 60, "h": 3600, "d": 86400}[m[2]]
	secs := n * unit
	if n == 0 || secs > MaxWindow {
		return 0, fmt.Errorf("%q must be more than 0 and at most 400d", s)
	}
	return secs, nil
}

// outcome is a predicate's answer at an instant, with the next instant at
// which it flips with nothing else changing (zero: never).
type outcome struct {
	ok   bool
	next time.Time
}

// eval applies the predicate to v (present false when the path holds
// nothing) at now. Values of any JSON type compare without a panic: a type
// the op does not compare simply does not match.
func (c *compiled) eval(v any, present bool, now time.Time) outcome {
	if present && v == nil && c.op != "eq" && c.op != "neq" {
		present = false // null counts as absent, except for an explicit eq null
	}
	switch c.op {
	case "exists":
		return outcome{ok: present}
	case "not_exists":
		return outcome{ok: !present}
	case "eq":
		return outcome{ok: present && jsonEqual(v, c.value)}
	case "neq":
		return outcome{ok: !present || !jsonEqual(v, c.value)}
	}
	if !present {
		return outcome{}
	}
	switch c.op {
	case "gt", "gte", "lt", "lte":
		var cmp int
		if c.isTime {
			s, ok := v.(string)
			if !ok {
				return outcome{}
			}
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return outcome{}
			}
			cmp = t.Compare(c.t)
		} else {
			n, ok := v.(json.Number)
			if !ok {
				return outcome{}
			}
			f, err := n.Float64()
			if err != nil {
				return outcome{}
			}
			switch {
			case f < c.num:
				cmp = -1
			case f > c.num:
				cmp = 1
			}
		}
		return outcome{ok: cmpOK(c.op, cmp)}
	case "contains", "starts_with":
		s, ok := v.(string)
		if !ok {
			return outcome{}
		}
		if c.op == "contains" {
			return outcome{ok: strings.Contains(s, c.str)}
		}
		return outcome{ok: strings.HasPrefix(s, c.str)}
	case "in":
		for _, x := range c.set {
			if jsonEqual(v, x) {
				return outcome{ok: true}
			}
		}
		return outcome{}
	case "within":
		s, ok := v.(string)
		if !ok {
			return outcome{}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return outcome{}
		}
		edge := t.Add(time.Duration(c.seconds) * time.Second)
		if !now.After(edge) {
			// A microsecond past the edge: the first instant PostgreSQL can store that is out.
			return outcome{ok: true, next: edge.Add(time.Microsecond)}
		}
		return outcome{}
	}
	return outcome{}
}

func cmpOK(op string, cmp int) bool {
	switch op {
	case "gt":
		return cmp > 0
	case "gte":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "lte":
		return cmp <= 0
	case "eq":
		return cmp == 0
	case "neq":
		return cmp != 0
	}
	return false
}

// jsonEqual is equality with the JSON type: "1" is not 1, 1 is 1.0.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		return e1 == nil && e2 == nil && fx == fy
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// lookup finds a dotted path in a decoded object: the whole path as one
// key first (traits named "a.b"), then nested objects.
func lookup(obj map[string]any, path string) (any, bool) {
	if v, ok := obj[path]; ok {
		return v, true
	}
	head, rest, found := strings.Cut(path, ".")
	if !found {
		return nil, false
	}
	inner, ok := obj[head].(map[string]any)
	if !ok {
		return nil, false
	}
	return lookup(inner, rest)
}
