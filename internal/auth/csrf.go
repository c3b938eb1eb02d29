package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
)

// NewToken returns 32 random bytes, URL-safe base64: session tokens and
// CSRF tokens.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// TokensEqual compares in constant time; an empty expected token never
// matches, so a session without a CSRF token refuses every form.
func TokensEqual(expected, got string) bool {
	if expected == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(expected), []byte(got)) == 1
}
