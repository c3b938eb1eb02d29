package segment

import (
	"errors"
	"strings"
	"testing"
)

func TestAuthenticateSaysWhatWasSigned(t *testing.T) {
	secret := []byte(fixtureSecret)
	single := []byte(`{"type":"track","event":"Order","userId":"u","messageId":"order-991"}`)
	forged := []byte("[" + string(single) + `,{"type":"track","event":"Forged","userId":"x"}]`)
	whole := []byte(`[{"type":"track","event":"A","userId":"u"}]`)
	for _, tc := range []struct {
		name string
		body []byte
		sig  string
		want Signed
		err  error
	}{
		{"object signed whole", single, Sign(secret, single), SignedWholeBody, nil},
		{"array signed whole", whole, Sign(secret, whole), SignedWholeBody, nil},
		// The review's forgery: a captured single delivery as element 0.
		{"captured body as element 0", forged, Sign(secret, single), SignedFirstElement, nil},
		{"no match", forged, Sign([]byte("other-secret-0123456789"), single), 0, ErrSignatureMismatch},
	} {
		got, err := Authenticate([][]byte{secret}, tc.body, tc.sig)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: Authenticate = %v, %v; want %v, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestTimestampsOutsideYears1To9999AreRefused(t *testing.T) {
	for _, ts := range []string{"9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00"} {
		_, err := Parse([]byte(`{"type":"track","event":"E","userId":"u","timestamp":"` + ts + `"}`))
		if err == nil || !strings.Contains(err.Error(), "0001–9999") {
			t.Errorf("timestamp %s: %v, want refused", ts, err)
		}
	}
	if _, err := Parse([]byte(`{"type":"track","event":"E","userId":"u","timestamp":"9999-12-31T23:59:59Z"}`)); err != nil {
		t.Errorf("last second of 9999: %v", err)
	}
}

func TestSecretRules(t *testing.T) {
	if err := ValidateSecret("ab"); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Errorf("2 characters: %v", err)
	}
	if err := ValidateSecret(strings.Repeat("a", 16)); err != nil {
		t.Errorf("16 characters: %v", err)
	}
	for secret, want := range map[string]string{"ab": "", "abcdefgh": "gh", "0123456789abcdef": "cdef", "0123456789abcdefXYZ": "fXYZ"} {
		if got := SecretTail(secret); got != want || len(got)*4 > len(secret) {
			t.Errorf("SecretTail(%q) = %q, want %q", secret, got, want)
		}
	}
}
