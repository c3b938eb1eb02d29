package email

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/google/uuid"
)

// Tokens makes and checks unsubscribe tokens: the workspace, the user and
// the group, with an HMAC over all three, so the token is the proof (no
// session, no CSRF) and cannot be turned into another user's or group's.
type Tokens struct{ key []byte }

// NewTokens uses key (at least 32 random bytes, kept in the database).
func NewTokens(key []byte) *Tokens { return &Tokens{key: key} }

// macLen is the HMAC-SHA256 truncated to 128 bits: unguessable, shorter URL.
const macLen = 16

// maxTokenField bounds a user id or group key inside a token.
const maxTokenField = 1024

// Subscriber is who a token unsubscribes from what.
type Subscriber struct {
	Workspace uuid.UUID
	UserID    string
	Group     string
}

// ErrBadToken is a token that was altered, truncated or made with another key.
var ErrBadToken = errors.New("not a valid unsubscribe token")

// Make returns the URL-safe token of s.
func (t *Tokens) Make(s Subscriber) string {
	payload := make([]byte, 0, 16+4+len(s.UserID)+len(s.Group))
	payload = append(payload, s.Workspace[:]...)
	payload = binary.AppendUvarint(payload, uint64(len(s.UserID)))
	payload = append(payload, s.UserID...)
	payload = append(payload, s.Group...)
	return base64.RawURLEncoding.EncodeToString(append(payload, t.mac(payload)...))
}

// Parse checks token and returns who and what it names.
func (t *Tokens) Parse(token string) (Subscriber, error) {
	if len(token) > 4*maxTokenField {
		return Subscriber{}, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) < 16+1+macLen {
		return Subscriber{}, ErrBadToken
	}
	payload, sum := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	if !hmac.Equal(sum, t.mac(payload)) { // constant time
		return Subscriber{}, ErrBadToken
	}
	ws, _ := uuid.FromBytes(payload[:16])
	n, w := binary.Uvarint(payload[16:])
	rest := payload[16+max(w, 0):]
	if w <= 0 || n > uint64(len(rest)) {
		return Subscriber{}, ErrBadToken
	}
	return Subscriber{Workspace: ws, UserID: string(rest[:n]), Group: string(rest[n:])}, nil
}

func (t *Tokens) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte("inlet-unsubscribe-v1\x00"))
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}
