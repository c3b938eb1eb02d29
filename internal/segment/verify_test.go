package segment

import (
	"errors"
	"strings"
	"testing"
)

func TestSignKnownVector(t *testing.T) {
	sigs := loadSignatures(t)
	if got := Sign([]byte(fixtureSecret), readFixture(t, "track.json")); got != sigs["track.json"] {
		t.Errorf("Sign = %s, want %s", got, sigs["track.json"])
	}
}

func TestVerify(t *testing.T) {
	secret := []byte(fixtureSecret)
	sigs := loadSignatures(t)
	batch := readFixture(t, "actions-batch.json")
	track := readFixture(t, "track.json")
	batchSig := sigs["actions-batch.json"]
	elem0 := `{"type":"identify","userId":"u"}`
	spaced := []byte(" \n[ " + elem0 + " ,\n{\"type\":\"track\"}]")

	tests := []struct {
		name   string
		secret []byte
		body   []byte
		sig    string
		want   error
	}{
		{"element 0 of batch", secret, batch, batchSig, nil},
		{"array signed over whole body", secret, batch, Sign(secret, batch), nil},
		{"uppercase hex", secret, batch, strings.ToUpper(batchSig), nil},
		{"surrounding whitespace", secret, track, " \t" + sigs["track.json"] + "\r\n", nil},
		{"element 0 with whitespace around it", secret, spaced, Sign(secret, []byte(elem0)), nil},
		{"element 1 is not enough", secret, spaced, Sign(secret, []byte(`{"type":"track"}`)), ErrSignatureMismatch},
		{"element 0 re-encoded", secret, spaced, Sign(secret, []byte(`{"type": "identify", "userId": "u"}`)), ErrSignatureMismatch},
		{"object body is not an array", secret, []byte(` ` + elem0), Sign(secret, []byte(elem0)), ErrSignatureMismatch},
		{"wrong secret", []byte("another-secret"), track, sigs["track.json"], ErrSignatureMismatch},
		{"tampered body", secret, append([]byte(" "), track...), sigs["track.json"], ErrSignatureMismatch},
		{"signature of another body", secret, track, sigs["page.json"], ErrSignatureMismatch},
		{"empty secret never verifies", nil, track, Sign(nil, track), ErrSignatureMismatch},
		{"missing", secret, track, "", ErrSignatureMissing},
		{"blank", secret, track, "  \t", ErrSignatureMissing},
		{"too short", secret, track, "abc123", ErrSignatureMalformed},
		{"too long", secret, track, sigs["track.json"] + "0", ErrSignatureMalformed},
		{"not hex", secret, track, strings.Repeat("zz", 20), ErrSignatureMalformed},
		{"prefixed", secret, track, "sha1=" + sigs["track.json"], ErrSignatureMalformed},
		{"sha256 length", secret, track, strings.Repeat("ab", 32), ErrSignatureMalformed},
		{"empty array", secret, []byte("[]"), Sign(secret, []byte("")), ErrSignatureMismatch},
		{"broken array", secret, []byte("[{"), Sign(secret, []byte("{")), ErrSignatureMismatch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.body, tc.sig)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), fixtureSecret) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

// Element 0 is authenticated on its own, so a batch whose tail is broken
// still passes Verify; Parse is what refuses it. This pins that split.
func TestVerifyElementZeroIgnoresTail(t *testing.T) {
	secret := []byte(fixtureSecret)
	elem0 := `{"type":"identify","userId":"u"}`
	body := []byte(`[` + elem0 + `,{"type":`)
	if err := Verify(secret, body, Sign(secret, []byte(elem0))); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if _, err := Parse(body); err == nil {
		t.Fatal("Parse accepted a truncated array")
	}
}

func TestVerifyAny(t *testing.T) {
	current, previous := []byte("current-secret"), []byte("previous-secret")
	body := readFixture(t, "identify.json")
	tests := []struct {
		name    string
		secrets [][]byte
		sig     string
		want    error
	}{
		{"current", [][]byte{current, previous}, Sign(current, body), nil},
		{"previous", [][]byte{current, previous}, Sign(previous, body), nil},
		{"empty secrets skipped", [][]byte{nil, {}, previous}, Sign(previous, body), nil},
		{"neither", [][]byte{current, previous}, Sign([]byte("other"), body), ErrSignatureMismatch},
		{"no secrets", nil, Sign(current, body), ErrSignatureMismatch},
		{"only empty secrets", [][]byte{{}}, Sign(nil, body), ErrSignatureMismatch},
		{"malformed wins over matching", [][]byte{current}, "xyz", ErrSignatureMalformed},
		{"missing", [][]byte{current}, "", ErrSignatureMissing},
	}
	for _, tc := range tests {
		if err := VerifyAny(tc.secrets, body, tc.sig); !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifyAny = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Batching with rotation: element 0 signed with the previous secret.
	batch := readFixture(t, "actions-batch.json")
	if err := VerifyAny([][]byte{current, []byte(fixtureSecret)}, batch, loadSignatures(t)["actions-batch.json"]); err != nil {
		t.Errorf("batch with rotated secret: %v", err)
	}
}

func TestSignatureErrorsDistinct(t *testing.T) {
	errs := []error{ErrSignatureMissing, ErrSignatureMalformed, ErrSignatureMismatch}
	for i, a := range errs {
		for j, b := range errs {
			if (i == j) != errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = %v", a, b, errors.Is(a, b))
			}
		}
	}
}

func TestVerifyWhichSaysWhichSecretVerified(t *testing.T) {
	a, b, c := []byte("secret-a-0123456789"), []byte("secret-b-0123456789"), []byte("secret-c-0123456789")
	body := readFixture(t, "identify.json")
	for want, signer := range [][]byte{c, b, a} {
		got, err := VerifyWhich([][]byte{c, b, a}, body, Sign(signer, body))
		if err != nil || got != want {
			t.Errorf("signed with secret %d: VerifyWhich = %d, %v", want, got, err)
		}
	}
	if got, err := VerifyWhich([][]byte{nil, c}, body, Sign(c, body)); err != nil || got != 1 {
		t.Errorf("after an empty secret: %d, %v", got, err)
	}
	if got, err := VerifyWhich([][]byte{a, b}, body, Sign(c, body)); !errors.Is(err, ErrSignatureMismatch) || got != -1 {
		t.Errorf("unknown secret: %d, %v", got, err)
	}
	batch := readFixture(t, "actions-batch.json")
	if got, err := VerifyWhich([][]byte{a, []byte(fixtureSecret)}, batch, loadSignatures(t)["actions-batch.json"]); err != nil || got != 1 {
		t.Errorf("batch element 0 signed with the second secret: %d, %v", got, err)
	}
}
