package segment

import (
	"fmt"
	"unicode/utf8"
)

// MinSecretLen is the shortest shared secret accepted. HMAC-SHA1 keyed with
// a short secret falls to offline guessing from one captured delivery; 16
// random characters is out of reach, and what the dashboard's Generate and
// Segment's own generator produce is far longer.
const MinSecretLen = 16

// ValidateSecret refuses a shared secret that is too short to protect the
// webhook. Both the dashboard form and `inlet secret set` use it.
func ValidateSecret(secret string) error {
	if n := utf8.RuneCountInString(secret); n < MinSecretLen {
		return fmt.Errorf("the shared secret is %d characters long; use at least %d (Generate makes a long random one)", n, MinSecretLen)
	}
	return nil
}

// SecretTail is the end of a secret that may be shown to identify it: its
// last 4 characters, and never more than a quarter of it, so a short legacy
// secret is never displayed whole (a secret under 4 characters shows
// nothing).
func SecretTail(secret string) string {
	r := []rune(secret)
	n := min(4, len(r)/4)
	return string(r[len(r)-n:])
}
