package segment

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1" // Segment's X-Signature is HMAC-SHA1; not our choice.
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
)

// Signature errors are fixed values so callers can map them to responses
// and metrics, and so nothing derived from the secret ever leaks into logs.
var (
	ErrSignatureMissing   = errors.New("segment: X-Signature header missing")
	ErrSignatureMalformed = errors.New("segment: X-Signature is not 40 hex characters")
	ErrSignatureMismatch  = errors.New("segment: X-Signature does not match")
)

// Sign returns the lowercase hex HMAC-SHA1 of data keyed with secret, as
// Segment sends it in X-Signature.
func Sign(secret, data []byte) string {
	return hex.EncodeToString(mac(secret, data))
}

func mac(secret, data []byte) []byte {
	h := hmac.New(sha1.New, secret)
	h.Write(data)
	return h.Sum(nil)
}

// Signed says which bytes a verified X-Signature covered.
type Signed int

const (
	// SignedWholeBody: the HMAC of the whole body (Segment's classic
	// Webhooks destination, and arrays signed whole). Nothing in the body
	// can have been added by someone without the secret.
	SignedWholeBody Signed = iota + 1
	// SignedFirstElement: the HMAC of the exact bytes of element 0 of a JSON
	// array, which is what Segment's Webhooks (Actions) destination with
	// batching sends. Only element 0 is authenticated: anyone holding one
	// signed event (a captured delivery) can append events of their own, so
	// callers must accept this only where the workspace has opted in.
	SignedFirstElement
)

func (s Signed) String() string {
	switch s {
	case SignedWholeBody:
		return "whole body"
	case SignedFirstElement:
		return "element 0 only"
	default:
		return "unsigned"
	}
}

// Verify checks X-Signature for a body against one secret. It accepts the
// HMAC of the whole body, or, when the body is a JSON array, the HMAC of the
// exact bytes of element 0 (see SignedFirstElement for what that proves).
//
// An empty secret never verifies: HMAC with an empty key is forgeable by
// anyone, so a missing configuration must fail closed.
func Verify(secret, body []byte, signature string) error {
	return VerifyAny([][]byte{secret}, body, signature)
}

// VerifyAny is Verify against several secrets. Callers that store what they
// verified use Authenticate, which also says which bytes were signed.
func VerifyAny(secrets [][]byte, body []byte, signature string) error {
	_, err := Authenticate(secrets, body, signature)
	return err
}

// VerifyWhich is VerifyAny that also says which secret verified (its index).
func VerifyWhich(secrets [][]byte, body []byte, signature string) (int, error) {
	_, which, err := AuthenticateWhich(secrets, body, signature)
	return which, err
}

// Authenticate checks X-Signature against several secrets, so a secret can
// be rotated (current + previous) without dropping events, and says which
// bytes the signature covered. A whole-body match wins over an element-0
// match. Empty secrets are skipped.
func Authenticate(secrets [][]byte, body []byte, signature string) (Signed, error) {
	signed, _, err := AuthenticateWhich(secrets, body, signature)
	return signed, err
}

// AuthenticateWhich is Authenticate that also says which secret verified
// (its index: the first listed of those matching the winning way), so the
// delivery log can show when Segment switched to a new secret. Every secret
// is compared, each in constant time; the loop does not stop at the first
// match, so timing does not depend on which one matched.
func AuthenticateWhich(secrets [][]byte, body []byte, signature string) (Signed, int, error) {
	sig, err := decodeSignature(signature)
	if err != nil {
		return 0, -1, err
	}
	first, hasFirst := firstElement(body)
	wholeAt, elemAt := -1, -1
	for i, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		// Compute both comparisons before combining them so neither is
		// skipped by short-circuit evaluation.
		whole := hmac.Equal(sig, mac(secret, body))
		elem := hasFirst && hmac.Equal(sig, mac(secret, first))
		if whole && wholeAt < 0 {
			wholeAt = i
		}
		if elem && elemAt < 0 {
			elemAt = i
		}
	}
	switch {
	case wholeAt >= 0:
		return SignedWholeBody, wholeAt, nil
	case elemAt >= 0:
		return SignedFirstElement, elemAt, nil
	default:
		return 0, -1, ErrSignatureMismatch
	}
}

// decodeSignature accepts hex in either case with surrounding whitespace,
// since proxies and hand-written clients vary in both.
func decodeSignature(signature string) ([]byte, error) {
	s := strings.TrimSpace(signature)
	if s == "" {
		return nil, ErrSignatureMissing
	}
	if len(s) != 2*sha1.Size {
		return nil, ErrSignatureMalformed
	}
	sig, err := hex.DecodeString(s)
	if err != nil {
		return nil, ErrSignatureMalformed
	}
	return sig, nil
}

// firstElement returns the exact bytes of element 0 when body (after leading
// whitespace) is a JSON array. It reads only as far as element 0, so the
// cost does not grow with the rest of the batch; a broken remainder is
// Parse's business, not the signature's.
func firstElement(body []byte) ([]byte, bool) {
	rest := trimSpace(body)
	if len(rest) == 0 || rest[0] != '[' {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(rest))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	if !dec.More() {
		return nil, false
	}
	// Decoding into RawMessage copies the value's bytes verbatim (from its
	// first to its last byte, no re-encoding), which is what was signed.
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, false
	}
	return raw, true
}
