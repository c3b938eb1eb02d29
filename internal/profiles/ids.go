package profiles

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxIDLen is the longest id accepted as an identity, in bytes. Real user
// and anonymous ids are UUIDs, database keys or emails; a longer value is a
// bug in the source (a serialized object, a stack trace), not a person.
const MaxIDLen = 200

// junkIDs are values that tracking code sends when it has no id: stringified
// nothing, placeholders, default test users. Any of them taken as an identity
// would merge every visitor that sent it into one profile, so they are
// refused as identities (the event still counts, under its other id if any)
// and counted in profile_refused_ids so an admin can see and fix the source.
var junkIDs = map[string]bool{
	"undefined": true, "null": true, "nil": true, "none": true, "nan": true,
	"0": true, "-1": true, "false": true, "true": true, "[object object]": true,
	"anonymous": true, "unknown": true, "n/a": true, "na": true, "{}": true, "[]": true,
	"\"\"": true, "''": true, "user": true, "userid": true, "anonymousid": true,
}

// validID reports whether an id may be an identity; an empty id is absent,
// not refused, so callers check it first.
func validID(id string) bool {
	if id == "" || len(id) > MaxIDLen || !utf8.ValidString(id) {
		return false
	}
	t := strings.TrimSpace(id)
	if t == "" || junkIDs[strings.ToLower(t)] {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// Profile keys: "u:<canonical userId>" or "a:<anonymousId>" for a profile
// with only anonymous ids.
func userKey(u string) string { return "u:" + u }
func anonKey(a string) string { return "a:" + a }

// KeyOfUser and KeyOfAnonymous are the profile keys pages link to.
func KeyOfUser(u string) string      { return userKey(u) }
func KeyOfAnonymous(a string) string { return anonKey(a) }
