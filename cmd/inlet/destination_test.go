package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/testdb"
	"github.com/inlet-dev/inlet/internal/testutil"
)

// storeEnv is the environment naming a fresh database of the store under
// test (INLET_TEST_STORE=sqlite picks the embedded one).
func storeEnv(t *testing.T) map[string]string {
	t.Helper()
	if os.Getenv("INLET_TEST_STORE") == "sqlite" {
		// Commands other than serve refuse to create a database: make it first.
		env := map[string]string{"DATA_DIR": t.TempDir(), "LOG_LEVEL": "error"}
		if _, errOut, err := runDest(env, "", "migrate", "--init"); err != nil {
			t.Fatalf("migrate --init: %v %s", err, errOut)
		}
		return env
	}
	return map[string]string{"DATABASE_URL": testdb.PostgresURL(t), "LOG_LEVEL": "error"}
}

func runDest(env map[string]string, stdin string, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// `inlet destination create` prints the signing secret alone; the server
// then forwards what Segment sends it to the receiver, signed with that
// secret the Standard Webhooks way, the body exactly as sent.
func TestDestinationCreateEndToEnd(t *testing.T) {
	t.Parallel()
	env := storeEnv(t)
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer recv.Close()

	out, errOut, err := runDest(env, "", "destination", "create", "--url", recv.URL+"/segment-events", "--types", "track,identify", "--name", "crm")
	if err != nil {
		t.Fatalf("create: %v %s", err, errOut)
	}
	secret := strings.TrimSuffix(out, "\n")
	if !strings.HasPrefix(secret, "whsec_") || strings.ContainsAny(secret, " \n\t") {
		t.Fatalf("create must print only the whsec_ secret, printed %q", out)
	}
	if !strings.Contains(errOut, "shown only this once") {
		t.Errorf("stderr does not say the secret is shown once: %q", errOut)
	}
	out, _, err = runDest(env, "", "destination", "list")
	if err != nil || !strings.Contains(out, "crm") || !strings.Contains(out, "identify,track") || strings.Contains(out, secret) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, _, err := runDest(env, fixtureSecret, "secret", "set"); err != nil {
		t.Fatal(err)
	}

	serveEnv := map[string]string{}
	for k, v := range env {
		if k != "LOG_LEVEL" {
			serveEnv[k] = v
		}
	}
	s := startServe(t, serveEnv)
	for _, f := range []string{"track.json", "identify.json", "page.json"} {
		if code := s.postFixture(t, f); code != http.StatusOK {
			t.Fatalf("post %s: %d", f, code)
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(got) }
	testutil.Wait(t, "track and identify at the receiver", func() bool { return count() >= 2 })
	// "Page is not sent" is proven by what is: a later track event. The
	// worker sends the feed in order, one step after another, so once this
	// marker arrives a page event would have arrived before it.
	marker := []byte(`{"type":"track","event":"Marker","userId":"u-marker","messageId":"marker-after-page"}`)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/api/public/webhooks/segment", bytes.NewReader(marker))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign([]byte(fixtureSecret), marker))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("post the marker: %v %v", resp, err)
	}
	resp.Body.Close()
	testutil.Wait(t, "the marker at the receiver", func() bool { return count() >= 3 })
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || !bytes.Equal(bodies[len(bodies)-1], marker) {
		t.Fatalf("receiver got %d deliveries, want 3 (track and identify, then the marker; page is not wanted)", len(got))
	}
	got, bodies = got[:2], bodies[:2]
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range got {
		if err := wh.Verify(bodies[i], r.Header); err != nil {
			t.Errorf("delivery %d does not verify with the printed secret: %v", i, err)
		}
		if r.URL.Path != "/segment-events" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("delivery %d: path %s, Content-Type %q", i, r.URL.Path, r.Header.Get("Content-Type"))
		}
		track, _ := fixture(t, "track.json")
		identify, _ := fixture(t, "identify.json")
		if !bytes.Equal(bytes.TrimSpace(bodies[i]), bytes.TrimSpace(track)) && !bytes.Equal(bytes.TrimSpace(bodies[i]), bytes.TrimSpace(identify)) {
			t.Errorf("delivery %d body is not the event as Segment sent it:\n%s", i, bodies[i])
		}
	}
}

func TestDestinationCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	env := storeEnv(t)
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no url":     {[]string{"destination", "create"}, "--url is required"},
		"ftp":        {[]string{"destination", "create", "--url", "ftp://x.example"}, "http:// or https://"},
		"metadata":   {[]string{"destination", "create", "--url", "http://169.254.169.254/"}, "cloud metadata"},
		"bad type":   {[]string{"destination", "create", "--url", "http://127.0.0.1:1/", "--types", "track,clicks"}, `"clicks" is not an event type`},
		"unknown":    {[]string{"destination", "remove"}, "unknown subcommand"},
		"no command": {[]string{"destination"}, "destination create --url"},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := runDest(env, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to say %q", err, tc.want)
			}
			if out != "" {
				t.Fatalf("printed %q on a refusal", out)
			}
		})
	}
}

// `inlet destination delete ID` removes it (list no longer shows it); a
// wrong or unknown id is refused with a clear message.
func TestDestinationDeleteCommand(t *testing.T) {
	t.Parallel()
	env := storeEnv(t)
	if _, errOut, err := runDest(env, "", "destination", "create", "--url", "http://127.0.0.1:1/hook", "--name", "gone-soon"); err != nil {
		t.Fatalf("create: %v %s", err, errOut)
	}
	if _, errOut, err := runDest(env, "", "destination", "create", "--url", "http://127.0.0.1:2/hook", "--name", "stays"); err != nil {
		t.Fatalf("create: %v %s", err, errOut)
	}
	out, _, err := runDest(env, "", "destination", "list")
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "gone-soon") {
			id = strings.Fields(line)[0]
		}
	}
	if id == "" {
		t.Fatalf("list does not show the destination:\n%s", out)
	}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"no id":      {[]string{"destination", "delete"}, "give the destination's id"},
		"not an id":  {[]string{"destination", "delete", "crm"}, "is not a destination id"},
		"unknown id": {[]string{"destination", "delete", "00000000-0000-0000-0000-000000000001"}, "no destination"},
		"two ids":    {[]string{"destination", "delete", id, id}, "unexpected argument"},
	} {
		if _, _, err := runDest(env, "", c.args...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		}
	}
	_, errOut, err := runDest(env, "", "destination", "delete", id)
	if err != nil || !strings.Contains(errOut, "deleted") {
		t.Fatalf("delete: %v %q", err, errOut)
	}
	out, _, _ = runDest(env, "", "destination", "list")
	if strings.Contains(out, "gone-soon") || !strings.Contains(out, "stays") {
		t.Fatalf("after delete, list shows:\n%s", out)
	}
	if _, _, err := runDest(env, "", "destination", "delete", id); err == nil || !strings.Contains(err.Error(), "no destination") {
		t.Fatalf("deleting twice: %v", err)
	}
}
