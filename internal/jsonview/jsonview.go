// Package jsonview pretty-prints stored JSON for people, within bounds: a
// stored event can be nested thousands deep, and json.Indent's output grows
// with depth times lines (a 20 KB event 10,000 deep became 250 MB of HTML
// on every view of the events page).
package jsonview

import "strings"

// Indent pretty-prints raw with two-space indentation down to maxDepth
// levels; anything nested deeper is written as stored (compact, on one
// line). Output stops at about maxBytes, and truncated then reports that
// the rest was cut (the caller offers the exact JSON for download). raw is
// assumed to be valid JSON, as every stored event is; anything else is
// returned as stored (cut at maxBytes).
func Indent(raw []byte, maxDepth, maxBytes int) (out string, truncated bool) {
	var b strings.Builder
	b.Grow(min(len(raw)*2, maxBytes) + 64)
	depth := 0
	newline := func(d int) {
		b.WriteByte('\n')
		for range d {
			b.WriteString("  ")
		}
	}
	for i := 0; i < len(raw); i++ {
		if b.Len() >= maxBytes {
			return b.String(), true
		}
		c := raw[i]
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			end := stringEnd(raw, i)
			b.Write(raw[i:end])
			i = end - 1
		case '{', '[':
			if depth >= maxDepth {
				end := valueEnd(raw, i)
				b.Write(raw[i:end])
				i = end - 1
				continue
			}
			if j := skipSpace(raw, i+1); j < len(raw) && (raw[j] == '}' || raw[j] == ']') {
				b.WriteByte(c)
				b.WriteByte(raw[j])
				i = j
				continue
			}
			depth++
			b.WriteByte(c)
			newline(depth)
		case '}', ']':
			depth = max(depth-1, 0)
			newline(depth)
			b.WriteByte(c)
		case ',':
			b.WriteByte(',')
			newline(depth)
		case ':':
			b.WriteString(": ")
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() > maxBytes {
		return b.String()[:maxBytes], true
	}
	return b.String(), false
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string starting at raw[i] == '"'.
func stringEnd(raw []byte, i int) int {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(raw)
}

// valueEnd returns the index just past the object or array at raw[i],
// without recursion (depth is a counter, so nesting costs nothing).
func valueEnd(raw []byte, i int) int {
	depth := 0
	for j := i; j < len(raw); j++ {
		switch raw[j] {
		case '"':
			j = stringEnd(raw, j) - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1
			}
		}
	}
	return len(raw)
}
