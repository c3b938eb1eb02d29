package delivery

import (
	"net/http"
	"testing"
	"time"
)

func TestPolicyNext(t *testing.T) {
	t.Parallel()
	p := Policy{Schedule: []time.Duration{5 * time.Second, time.Minute}, RetryFor: time.Hour, Jitter: 0.2}
	first := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for attempts, want := range map[int]time.Duration{1: 5 * time.Second, 2: time.Minute, 7: time.Minute} {
		next, giveUp := p.Next(attempts, first, first, 0)
		if giveUp || next.Sub(first) < want*8/10 || next.Sub(first) > want*12/10 {
			t.Errorf("after %d attempts: next in %s (give up %v), want %s ± 20%%", attempts, next.Sub(first), giveUp, want)
		}
	}
	if next, _ := p.Next(1, first, first, 42*time.Second); next.Sub(first) != 42*time.Second {
		t.Errorf("Retry-After 42s gave a wait of %s", next.Sub(first))
	}
	now := first.Add(59*time.Minute + 30*time.Second)
	if next, giveUp := p.Next(3, first, now, 0); giveUp || !next.Equal(first.Add(time.Hour)) {
		t.Errorf("near the end: next %s give up %v, want the last attempt exactly at the deadline", next, giveUp)
	}
	if _, giveUp := p.Next(4, first, first.Add(time.Hour), 0); !giveUp {
		t.Error("no give-up at the end of the retry period")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"": 0, "0": 0, "-5": 0, "120": 2 * time.Minute, "junk": 0, "999999999": 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
	}
	for in, want := range cases {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %s, want %s", in, got, want)
		}
	}
}

// The signature per the spec, computed independently: HMAC-SHA256 with the
// base64-decoded key over "id.timestamp.body" (a vector from the Standard
// Webhooks test suite).
func TestSignKnownVector(t *testing.T) {
	t.Parallel()
	got, err := Sign([]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
		[]byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
}
