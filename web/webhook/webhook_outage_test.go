package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

func TestWebhookDatabaseOutage(t *testing.T) {
	t.Parallel()
	st, proxy := webtest.OpenProxiedStore(t)
	ctx := context.Background()
	h := webtest.StartHook(t, st, nil)
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	var acked []string // every messageId answered 2xx
	post := func(i int) (webtest.HookReply, time.Duration) {
		mid := fmt.Sprintf("outage-%d", i)
		body := []byte(fmt.Sprintf(`{"type":"track","event":"Outage","userId":"u","messageId":%q}`, mid))
		start := time.Now()
		r := h.Post("", webtest.Sign(webtest.FixtureSecret, body), body)
		if r.Status/100 == 2 {
			acked = append(acked, mid)
		}
		return r, time.Since(start)
	}
	if r, _ := post(0); r.Status != http.StatusOK {
		t.Fatalf("before the outage: %+v", r)
	}

	proxy.Cut()
	for i := 1; i <= 5; i++ {
		r, took := post(i)
		if r.Status != http.StatusServiceUnavailable || r.RetryAfter == "" {
			t.Fatalf("during the outage: got %+v, want 503 with Retry-After", r)
		}
		if took > 4*time.Second {
			t.Fatalf("during the outage the answer took %v; Segment gives up after 5s", took)
		}
	}

	// A database that accepts connections and never answers must not hang
	// the webhook either.
	proxy.Hang()
	for i := 10; i <= 12; i++ {
		r, took := post(i)
		if r.Status != http.StatusServiceUnavailable || r.RetryAfter == "" || took > 4*time.Second {
			t.Fatalf("hung database: got %+v after %v, want 503 with Retry-After within 4s", r, took)
		}
	}

	proxy.Restore()
	i := 100
	testutil.WaitWithin(t, 10*time.Second, "ingestion to resume with the database", func() bool {
		r, _ := post(i)
		i++
		if r.Status != http.StatusOK && r.Status != http.StatusServiceUnavailable {
			t.Fatalf("after the outage: %+v", r)
		}
		return r.Status == http.StatusOK
	})
	// Every 2xx is stored, read back from the database itself; the
	// outage's 503s may or may not be (Segment retries them).
	if len(acked) < 2 {
		t.Fatalf("acknowledged %v: want the delivery before and the one after the outage", acked)
	}
	for _, mid := range acked {
		if _, err := st.EventByMessageID(ctx, h.WS.ID, mid); err != nil {
			t.Errorf("%s acknowledged but not in the database: %v", mid, err)
		}
	}
}
