package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// Every event committed after the destination was created arrives once, as
// stored (byte for byte), signed so the Standard Webhooks reference library
// verifies it, with a webhook-id stable per event and destination.
func TestDeliversSignedRawEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		// Committed before the destination existed: not sent on SQLite; on
		// PostgreSQL the feed head is the oldest running transaction of the
		// whole server, so these may be sent too (at least once, never fewer).
		insert(t, st, ws.ID, "track", "before-1", "before-2")
		r := newReceiver(t)
		d := createDestination(t, st, ws.ID, r.srv.URL+"/hook")
		r.secret = d.Secret
		sig := &signals{}
		o := testOptions()
		o.Signal = sig.record
		startManager(t, st, o)
		ids := mids("e", 250)
		insert(t, st, ws.ID, "track", ids...)
		testutil.WaitWithin(t, 20*time.Second, "250 deliveries", func() bool { return deliveredAll(r, ids) })
		sig.waitIdle(t, "the worker to have nothing more to send")
		var hits []hit
		for _, h := range r.all() {
			if mid := midOf(h.body); mid == "before-1" || mid == "before-2" {
				if st.Dialect() == store.SQLite {
					t.Fatalf("event %s committed before the destination existed was sent", mid)
				}
				continue
			}
			hits = append(hits, h)
		}
		if len(hits) != len(ids) {
			t.Fatalf("receiver got %d requests for %d events (no failures, one instance: want exactly once)", len(hits), len(ids))
		}
		for _, h := range hits {
			mid := midOf(h.body)
			if h.body != string(rawEvent(mid, "track")) {
				t.Fatalf("body is not the stored raw event:\n got %s\nwant %s", h.body, rawEvent(mid, "track"))
			}
			if h.verified != nil {
				t.Fatalf("reference library refused the signature of %s: %v", mid, h.verified)
			}
			if h.ctype != "application/json" {
				t.Fatalf("Content-Type %q", h.ctype)
			}
			if want := delivery.WebhookID(d.ID, mid); h.id != want {
				t.Fatalf("webhook-id %q, want %q", h.id, want)
			}
			ts, err := strconv.ParseInt(h.timestamp, 10, 64)
			if err != nil || time.Since(time.Unix(ts, 0)) > time.Minute {
				t.Fatalf("webhook-timestamp %q is not this attempt's Unix seconds", h.timestamp)
			}
		}
		d, _ = st.Destination(ctx, ws.ID, d.ID)
		if d.Delivered < int64(len(ids)) {
			t.Errorf("delivered count %d, want %d", d.Delivered, len(ids))
		}
		stats, err := st.DestinationStats(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if stats.OldestUndelivered != nil || stats.Retrying != 0 || stats.Failed != 0 {
			t.Errorf("stats after everything was delivered: %+v", stats)
		}
	})
}

// During a rotation's overlap every delivery carries both signatures, each
// verifiable on its own with its own secret.
func TestRotationSignsWithBothSecrets(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	ctx := context.Background()
	ws, _ := st.DefaultWorkspace(ctx)
	r := newReceiver(t)
	d := createDestination(t, st, ws.ID, r.srv.URL)
	old := d.Secret
	fresh := delivery.NewSecret()
	if err := st.RotateDestinationSecret(ctx, ws.ID, d.ID, fresh, time.Hour); err != nil {
		t.Fatal(err)
	}
	startManager(t, st, testOptions())
	insert(t, st, ws.ID, "identify", "rot-1")
	testutil.WaitWithin(t, 10*time.Second, "the delivery", func() bool { return deliveredAll(r, []string{"rot-1"}) })
	h := r.all()[0]
	hdr := http.Header{}
	hdr.Set("webhook-id", h.id)
	hdr.Set("webhook-timestamp", h.timestamp)
	hdr.Set("webhook-signature", h.signature)
	for name, secret := range map[string]string{"old": old, "new": fresh} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.Verify([]byte(h.body), hdr); err != nil {
			t.Errorf("the %s secret does not verify during the overlap: %v (signature %q)", name, err, h.signature)
		}
	}
	wh, _ := standardwebhooks.NewWebhook(delivery.NewSecret())
	if err := wh.Verify([]byte(h.body), hdr); err == nil {
		t.Error("an unrelated secret verified: the check proves nothing")
	}
}

// Failed attempts are retried on the schedule, with the same webhook-id and
// a fresh timestamp, honouring Retry-After; then delivered.
func TestRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		r.setAnswer(func(h hit, n int) (int, http.Header) {
			switch {
			case midOf(h.body) == "ra" && n == 0:
				return http.StatusTooManyRequests, http.Header{"Retry-After": {"1"}}
			case n < 2:
				return http.StatusInternalServerError, nil
			}
			return http.StatusOK, nil
		})
		d := createDestination(t, st, ws.ID, r.srv.URL)
		r.secret = d.Secret
		o := testOptions()
		o.Retry.Schedule = []time.Duration{300 * time.Millisecond, 600 * time.Millisecond}
		startManager(t, st, o)
		insert(t, st, ws.ID, "track", "a", "b", "ra")
		testutil.WaitWithin(t, 20*time.Second, "delivery after retries", func() bool { return deliveredAll(r, []string{"a", "b", "ra"}) })
		byID := map[string][]hit{}
		for _, h := range r.all() {
			byID[midOf(h.body)] = append(byID[midOf(h.body)], h)
		}
		for _, mid := range []string{"a", "b"} {
			hs := byID[mid]
			if len(hs) != 3 {
				t.Fatalf("%s: %d attempts, want 3 (two 500s then 200)", mid, len(hs))
			}
			// Jitter is ±20%: the waits are at least 80% of the schedule.
			if gap := hs[1].at.Sub(hs[0].at); gap < 240*time.Millisecond {
				t.Errorf("%s: second attempt %s after the first, want ≥ 240ms", mid, gap)
			}
			if gap := hs[2].at.Sub(hs[1].at); gap < 480*time.Millisecond {
				t.Errorf("%s: third attempt %s after the second, want ≥ 480ms", mid, gap)
			}
			for _, h := range hs {
				if h.id != hs[0].id || h.verified != nil {
					t.Errorf("%s: attempt with webhook-id %q (first %q), signature check %v", mid, h.id, hs[0].id, h.verified)
				}
			}
		}
		ra := byID["ra"]
		if len(ra) < 2 || ra[1].at.Sub(ra[0].at) < 900*time.Millisecond {
			t.Errorf("Retry-After: 1 not honoured: attempts %v", ra)
		}
		atts, err := st.DestinationAttempts(ctx, d.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		retrying := 0
		for _, a := range atts {
			if a.Outcome == "retrying" {
				retrying++
				if a.Reason == "" || a.Status == 0 || a.Response == "" {
					t.Errorf("failed attempt recorded without status, reason or response: %+v", a)
				}
			}
		}
		if retrying < 5 {
			t.Errorf("%d failed attempts recorded, want ≥ 5", retrying)
		}
	})
}

// After DESTINATION_RETRY_FOR the event is marked failed and counted; "retry
// failed now" sends it again.
func TestGivesUpThenRetryNow(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		var down atomic.Bool
		down.Store(true)
		r.setAnswer(func(hit, int) (int, http.Header) {
			if down.Load() {
				return http.StatusBadGateway, nil
			}
			return http.StatusNoContent, nil
		})
		d := createDestination(t, st, ws.ID, r.srv.URL)
		o := testOptions()
		o.Retry.RetryFor = 700 * time.Millisecond
		obs := &countingObserver{}
		o.Observer = obs
		sig := &signals{}
		o.Signal = sig.record
		startManager(t, st, o)
		insert(t, st, ws.ID, "track", "doomed")
		testutil.WaitWithin(t, 15*time.Second, "the event to be marked failed", func() bool {
			s, err := st.DestinationStats(ctx, d)
			return err == nil && s.Failed == 1
		})
		n := len(r.all())
		sig.waitIdle(t, "the worker to look again after giving up")
		if len(r.all()) != n {
			t.Fatal("a failed (given up) event was still retried")
		}
		d, _ = st.Destination(ctx, ws.ID, d.ID)
		if d.Failed != 1 || obs.get("failed") != 1 {
			t.Fatalf("failed count %d, observer failed=%d; want 1 and 1", d.Failed, obs.get("failed"))
		}
		down.Store(false)
		if n, err := st.RetryDestinationNow(ctx, d); err != nil || n != 1 {
			t.Fatalf("retry now: %d %v", n, err)
		}
		testutil.WaitWithin(t, 10*time.Second, "the retried event", func() bool { return deliveredAll(r, []string{"doomed"}) })
		testutil.WaitWithin(t, 5*time.Second, "an empty retry table", func() bool {
			s, _ := st.DestinationStats(ctx, d)
			return s.Failed == 0 && s.Retrying == 0
		})
	})
}

// A rotation saved while a worker runs signs the very next delivery with
// both secrets: the worker reads the secrets after the events it sends, not
// from a copy refreshed every few seconds.
func TestRotationSignsAtOnce(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ws, _ := st.DefaultWorkspace(ctx)
		r := newReceiver(t)
		d := createDestination(t, st, ws.ID, r.srv.URL)
		old := d.Secret
		o := testOptions()
		o.LeaseTTL = time.Minute // the worker's periodic reload is 20 s away
		startManager(t, st, o)
		insert(t, st, ws.ID, "track", "before-rotation")
		testutil.WaitWithin(t, 10*time.Second, "a delivery before the rotation", func() bool { return deliveredAll(r, []string{"before-rotation"}) })
		for i := range 3 {
			fresh, err := delivery.Rotate(ctx, st, ws.ID, d.ID, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			mid := fmt.Sprintf("after-rotation-%d", i)
			insert(t, st, ws.ID, "track", mid)
			testutil.WaitWithin(t, 10*time.Second, mid, func() bool { return deliveredAll(r, []string{mid}) })
			var h hit
			for _, x := range r.all() {
				if midOf(x.body) == mid {
					h = x
				}
			}
			hdr := http.Header{}
			hdr.Set("webhook-id", h.id)
			hdr.Set("webhook-timestamp", h.timestamp)
			hdr.Set("webhook-signature", h.signature)
			for name, secret := range map[string]string{"previous": old, "new": fresh} {
				wh, err := standardwebhooks.NewWebhook(secret)
				if err != nil {
					t.Fatal(err)
				}
				if err := wh.Verify([]byte(h.body), hdr); err != nil {
					t.Fatalf("rotation %d: the %s secret does not verify the first delivery after it: %v", i, name, err)
				}
			}
			old = fresh
		}
	})
}
