package dashboard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A clipped value stays valid text whatever characters it holds: a trait
// value of accented or CJK text shows shortened, not with a broken byte.
func TestClipKeepsCharactersWhole(t *testing.T) {
	t.Parallel()
	for _, s := range []string{strings.Repeat("é", 150), strings.Repeat("用户", 70), "ab" + strings.Repeat("☕", 100), strings.Repeat("x", 300)} {
		got := clip(s, 200)
		if !utf8.ValidString(got) || len(got) > 200+len("…") || !strings.HasSuffix(got, "…") {
			t.Errorf("clip(%d bytes) = %q (%d bytes)", len(s), got, len(got))
		}
	}
	if got := clip("short", 200); got != "short" {
		t.Errorf("a short value changed: %q", got)
	}
}
