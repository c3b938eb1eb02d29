package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// encPrefix marks a secret stored encrypted, so plaintext rows written before
// ENCRYPTION_KEY was set keep working until `inlet secret encrypt` runs.
const encPrefix = "enc:v1:"

// plainPrefix marks a secret stored as plaintext. Without it a plaintext
// secret that happened to start with "enc:v1:" was taken for an encrypted
// one, and every page and the webhook of its workspace failed (migration
// 00012 gave existing plaintext rows the prefix). A stored value with
// neither prefix can only come from a binary older than that migration and
// is read as plaintext.
const plainPrefix = "plain:"

// ErrNoEncryptionKey is returned when a row is encrypted but Inlet runs without the key.
var ErrNoEncryptionKey = errors.New("a shared secret is stored encrypted but ENCRYPTION_KEY is not set")

type secretCipher struct{ aead cipher.AEAD }

func newSecretCipher(key string) (*secretCipher, error) {
	// Hashing lets operators use any long random string as the key.
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("encryption key: %w", err)
	}
	return &secretCipher{aead: aead}, nil
}

func (c *secretCipher) seal(plain string) string {
	nonce := make([]byte, c.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails on supported platforms
	out := c.aead.Seal(nonce, nonce, []byte(plain), nil)
	return encPrefix + base64.StdEncoding.EncodeToString(out)
}

func (c *secretCipher) open(stored string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(stored, encPrefix))
	if err != nil || len(raw) < c.aead.NonceSize() {
		return "", errors.New("stored secret is corrupt")
	}
	n := c.aead.NonceSize()
	plain, err := c.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return "", errors.New("stored secret does not decrypt with ENCRYPTION_KEY (was the key changed?)")
	}
	return string(plain), nil
}

// sealSecret prepares a secret for storage.
func (s *Store) sealSecret(plain string) string {
	if plain == "" {
		return ""
	}
	if s.cipher == nil {
		return plainPrefix + plain
	}
	return s.cipher.seal(plain)
}

// openSecret turns a stored secret back into plaintext.
func (s *Store) openSecret(stored string) (string, error) {
	if plain, ok := strings.CutPrefix(stored, plainPrefix); ok {
		return plain, nil
	}
	if !strings.HasPrefix(stored, encPrefix) {
		return stored, nil
	}
	if s.cipher == nil {
		return "", ErrNoEncryptionKey
	}
	return s.cipher.open(stored)
}

// Encrypts reports whether secrets are encrypted at rest.
func (s *Store) Encrypts() bool { return s.cipher != nil }

// isSealed reports whether a stored secret is encrypted.
func isSealed(stored string) bool { return strings.HasPrefix(stored, encPrefix) }
