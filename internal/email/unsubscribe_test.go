package email

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestTokensRoundTripAndRefuseTampering(t *testing.T) {
	t.Parallel()
	tk := NewTokens([]byte("0123456789abcdef0123456789abcdef"))
	s := Subscriber{Workspace: uuid.New(), UserID: "user/with ünïcode", Group: "news"}
	tok := tk.Make(s)
	got, err := tk.Parse(tok)
	if err != nil || got != s {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	// Flip each character in turn: none may still verify.
	for i := range tok {
		b := []byte(tok)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		if _, err := tk.Parse(string(b)); err == nil {
			t.Fatalf("altered token (char %d) verified", i)
		}
	}
	other := NewTokens([]byte("another key of thirty-two bytes!"))
	if _, err := other.Parse(tok); err == nil {
		t.Error("token made with another key verified")
	}
	for _, bad := range []string{"", "x", strings.Repeat("A", 10000), tok[:len(tok)-2]} {
		if _, err := tk.Parse(bad); err == nil {
			t.Errorf("%.20q verified", bad)
		}
	}
	// Another user's token is another token.
	if tk.Make(Subscriber{Workspace: s.Workspace, UserID: "user/with ünïcodx", Group: "news"}) == tok {
		t.Error("two users share a token")
	}
}
