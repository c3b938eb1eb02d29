package templates

import (
	"encoding/json"
	"strings"
)

// traitText is how a trait's value reads on the page: a JSON string without
// its quotes (an email is shown as grace@example.com, not "grace@example.com"),
// anything else (numbers, booleans, null, objects, arrays) as its JSON, so
// 12 and "12" stay apart by their class. A value cut short is a string when
// it starts with a quote; only its opening quote is dropped then.
func traitText(v string, cut bool) (text string, isString bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, false
	}
	var s string
	if !cut && json.Unmarshal([]byte(v), &s) == nil {
		return s, true
	}
	return strings.TrimPrefix(v, `"`), true
}

// traitClass marks string values apart from the rest.
func traitClass(v string, cut bool) string {
	if _, isString := traitText(v, cut); isString {
		return "trait-string"
	}
	return "mono trait-json"
}

func traitShown(v string, cut bool) string {
	text, _ := traitText(v, cut)
	return text
}
