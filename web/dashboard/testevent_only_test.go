package dashboard_test

import (
	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"

	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/store"
)

// The settings page's "Send test event" is stored and listed as a test, and
// nothing else follows from it: the profile follower makes no profile of it
// and the delivery workers do not forward it (a real event sent after it is
// forwarded and becomes a profile, so both readers did run past it).
func TestSettingsTestEventIsOnlyATest(t *testing.T) {
	d := startProfileDashboard(t)
	ctx := context.Background()
	var mu sync.Mutex
	var got []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	defer recv.Close()
	if _, err := delivery.Create(ctx, d.St, nil, d.WS.ID, delivery.Input{Name: "crm", URL: recv.URL}); err != nil {
		t.Fatal(err)
	}
	m := delivery.New(d.St, delivery.Options{Poll: 20 * time.Millisecond, Rescan: 50 * time.Millisecond, Logger: webtest.Logger(t)})
	m.Start(ctx)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.Close(cctx)
	})

	settings := d.C.MustSignIn()
	p := d.C.SaveSecret(settings, "only-a-test-secret")
	p = d.C.Follow(d.C.Submit(p, "#test-event-form", nil))
	if !strings.Contains(p.Text("#flash"), `"accepted":1`) {
		t.Fatalf("test event flash: %q", p.Text("#flash"))
	}
	d.send(ev("identify", "real-1", "2026-02-01T10:00:00Z", `"userId":"real-user","traits":{"plan":"pro"}`))

	testutil.WaitWithin(t, 20*time.Second, "the real event forwarded", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, b := range got {
			if strings.Contains(b, `"real-1"`) {
				return true
			}
		}
		return false
	})
	mu.Lock()
	for _, b := range got {
		if strings.Contains(b, store.TestMessagePrefix) {
			t.Errorf("the test event was forwarded to a destination: %s", b)
		}
	}
	mu.Unlock()
	if r := d.C.Get("/dashboard/users/real-user"); r.Status != http.StatusOK {
		t.Fatalf("the real user has no profile: %d", r.Status)
	}
	if r := d.C.Get("/dashboard/users/inlet-test-user"); r.Status != http.StatusNotFound {
		t.Fatalf("the test event made a profile: %d", r.Status)
	}
	users := d.C.Get("/dashboard/users")
	if strings.Contains(users.Text("main"), "inlet-test-user") {
		t.Fatal("the test user is listed among users")
	}
	events := d.C.Get("/dashboard/events")
	if n := events.Doc.Find(".event-row .test-event").Length(); n != 1 {
		t.Fatalf("%d events labelled test on the events page, want 1", n)
	}
}
