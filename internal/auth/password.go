// Package auth owns who may use the dashboard: admin accounts and their
// password hashes, server-side sessions (a gorilla/sessions Store backed by
// the database), CSRF tokens and sign-in throttling.
package auth

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// DefaultPasswordCost is bcrypt's work factor: about 0.1 s per check on a
// small server, slow enough to make guessing a stolen hash expensive.
const DefaultPasswordCost = 11

// Password length rules. bcrypt ignores bytes past 72, so a longer password
// would silently be a shorter one; we refuse it instead.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// ErrBadCredentials is the one answer to a wrong email or a wrong password,
// so a sign-in never reveals which half was wrong.
var ErrBadCredentials = errors.New("email or password is incorrect")

// ValidatePassword explains what is wrong with a new password, or returns nil.
func ValidatePassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("password must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns the bcrypt hash of a valid password.
func HashPassword(pw string) (string, error) { return hashPassword(pw, DefaultPasswordCost) }

func hashPassword(pw string, cost int) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// checkPassword compares in constant time (bcrypt does).
func checkPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// dummyHash is compared against when the email is unknown, so an unknown
// email takes as long to refuse as a wrong password.
func dummyHash(cost int) string {
	h, err := bcrypt.GenerateFromPassword([]byte("inlet-no-such-admin"), cost)
	if err != nil {
		panic(err) // only for a cost outside bcrypt's range, which New rules out
	}
	return string(h)
}
