package api

import (
	"net/url"
	"slices"
	"sort"
	"strings"
)

// onlyParams refuses a query parameter the route does not know. A filter
// silently ignored answers far more than was asked: GET /events?userId=dana
// (the event field's name, not the filter's) listed every user's events, and
// an export meant for one person's access request would carry everyone's.
// A name with a prefix ending in "." (like "trait.") admits every name under it.
func onlyParams(q url.Values, allowed ...string) error {
	var unknown []string
	for k := range q {
		if slices.Contains(allowed, k) || slices.ContainsFunc(allowed, func(a string) bool {
			return strings.HasSuffix(a, ".") && strings.HasPrefix(k, a)
		}) {
			continue
		}
		unknown = append(unknown, k)
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if strings.HasSuffix(a, ".") {
			a += "KEY"
		}
		names[i] = a
	}
	return invalid("unknown query parameter " + strings.Join(quoteAll(unknown), ", ") + ": this route takes " + strings.Join(names, ", "))
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		out[i] = `"` + strings.ToValidUTF8(v, "?") + `"`
	}
	return out
}
