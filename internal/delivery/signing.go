// Package delivery forwards every committed event of a workspace to its
// destinations (HTTP endpoints), signed the Standard Webhooks way, retried
// with backoff, and never skipped: each destination follows the store's
// commit-safe feed with a cursor that moves only together with the retry
// rows of the events that failed.
package delivery

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// SecretPrefix starts every destination signing secret (Standard Webhooks).
const SecretPrefix = "whsec_"

// secretBytes is the key length; the spec asks for 24 to 64 bytes.
const secretBytes = 32

// NewSecret returns a fresh signing secret, whsec_ + base64 of 32 random bytes.
func NewSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

var errBadSecret = errors.New("signing secret must be whsec_ followed by base64")

// secretKey decodes a whsec_ secret into the HMAC key.
func secretKey(secret string) ([]byte, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return nil, errBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, errBadSecret
	}
	return key, nil
}

// WebhookID is the webhook-id of an event for a destination: the same on
// every attempt, retry and replay, so receivers can deduplicate, and
// different per destination, so one receiver's ids say nothing about another's.
func WebhookID(destination uuid.UUID, messageID string) string {
	h := sha256.New()
	h.Write(destination[:])
	h.Write([]byte{0})
	h.Write([]byte(messageID))
	return "msg_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Sign returns the webhook-signature header value: one "v1,<base64>" per
// secret, space-separated (several during a rotation's overlap), each an
// HMAC-SHA256 over "id.timestamp.body".
func Sign(secrets []string, id string, timestamp int64, body []byte) (string, error) {
	prefix := id + "." + strconv.FormatInt(timestamp, 10) + "."
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(prefix))
		m.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	}
	return strings.Join(sigs, " "), nil
}
