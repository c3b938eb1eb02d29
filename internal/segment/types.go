package segment

import "slices"

// The Segment Spec's call types: the only values of an event's "type".
const (
	TypeTrack    = "track"
	TypeIdentify = "identify"
	TypePage     = "page"
	TypeScreen   = "screen"
	TypeGroup    = "group"
	TypeAlias    = "alias"
	TypeDelete   = "delete"
)

// Types lists every call type once, in the order pickers and filters offer
// them (most frequent first). Callers must not modify it.
var Types = []string{TypeTrack, TypeIdentify, TypePage, TypeScreen, TypeGroup, TypeAlias, TypeDelete}

// ValidType reports whether t is one of Types.
func ValidType(t string) bool { return slices.Contains(Types, t) }
