package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

func TestWebhookFixtures(t *testing.T) {
	t.Parallel()
	fx := webtest.Fixtures(t)
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := webtest.StartHook(t, st, nil)
		h.SetSecret(h.WS.ID, webtest.FixtureSecret)
		h.AcceptFirstElement(h.WS.ID, true) // the Actions batch fixture is signed over element 0
		cases := []struct {
			file     string
			accepted int
			msgIDs   []string
			typ      string
		}{
			{"identify.json", 1, []string{"ajs-next-1700471643117-a1"}, "identify"},
			{"track.json", 1, []string{"ajs-next-1700471643117-b2"}, "track"},
			{"page.json", 1, []string{"ajs-next-1700471643117-c3"}, "page"},
			{"screen.json", 1, []string{"ios-4F1E0C1A-9B7D-4C3E-8A2B-1D0E9F8A7B6C"}, "screen"},
			{"group.json", 1, []string{"ajs-next-1700471643117-d4"}, "group"},
			{"alias.json", 1, []string{"ajs-next-1700471643117-e5"}, "alias"},
		}
		for _, c := range cases {
			f := fx[c.file]
			r := h.Post("", f.Sig, f.Body)
			if r.Status != http.StatusOK || !r.OK || r.Accepted != c.accepted || r.Duplicates != 0 {
				t.Fatalf("%s: got %+v", c.file, r)
			}
			for _, mid := range c.msgIDs {
				ev, err := st.EventByMessageID(context.Background(), h.WS.ID, mid)
				if err != nil {
					t.Fatalf("%s: acknowledged but not stored: %v", c.file, err)
				}
				if ev.Type != c.typ || ev.Source != "webhook" {
					t.Errorf("%s: stored type=%q source=%q", c.file, ev.Type, ev.Source)
				}
				if !bytes.Equal(ev.Raw, bytes.TrimSpace(f.Body)) {
					t.Errorf("%s: raw JSON not stored byte-exact", c.file)
				}
			}
		}
		// The Actions batch repeats events already stored: its signature covers
		// element 0 only, and its retries are no-ops.
		ab := fx["actions-batch.json"]
		r := h.Post("", ab.Sig, ab.Body)
		if r.Status != http.StatusOK || r.Accepted+r.Duplicates < 2 || r.Duplicates < 1 {
			t.Fatalf("actions batch: %+v", r)
		}
		before := h.Count(h.WS.ID)
		r = h.Post("", ab.Sig, ab.Body)
		if r.Status != http.StatusOK || r.Accepted != 0 {
			t.Fatalf("actions batch retry must be all duplicates: %+v", r)
		}
		tb := fx["tracking-api-batch.json"]
		if r = h.Post("", tb.Sig, tb.Body); r.Status != http.StatusOK {
			t.Fatalf("tracking batch: %+v", r)
		}
		if h.Count(h.WS.ID) < before {
			t.Fatal("count went down")
		}
		// Segment's deletion request erases its user (web/dashboard/erase_test.go
		// tests the erasure); the call is not stored.
		del := fx["delete.json"]
		if r := h.Post("", del.Sig, del.Body); r.Status != http.StatusOK || r.Accepted != 0 || r.Erased != 1 {
			t.Fatalf("delete.json: got %+v, want erased 1 and nothing stored", r)
		}
		if _, err := st.EventByMessageID(context.Background(), h.WS.ID, "delete-5f1e"); err == nil {
			t.Error("the delete call was stored")
		}
	})
}

func TestWebhookSignatureRefusals(t *testing.T) {
	t.Parallel()
	fx := webtest.Fixtures(t)
	st := testdb.Open(t)
	h := webtest.StartHook(t, st, nil)
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	body := fx["track.json"].Body
	good := fx["track.json"].Sig
	cases := map[string]string{
		"missing":            "",
		"malformed":          "not-hex",
		"short":              good[:20],
		"wrong":              webtest.Sign("another-secret", body),
		"sha256 sized":       strings.Repeat("ab", 32),
		"one digit off":      good[:39] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", good[39])+1)%16]),
		"signature of other": fx["identify.json"].Sig,
	}
	for name, sig := range cases {
		t.Run(name, func(t *testing.T) {
			r := h.Post("", sig, body)
			if r.Status != http.StatusUnauthorized || r.Error == "" {
				t.Fatalf("got %+v, want 401 with an error", r)
			}
		})
	}
	if n := h.Count(h.WS.ID); n != 0 {
		t.Fatalf("refused requests stored %d events", n)
	}
	// Uppercase hex is the same signature.
	if r := h.Post("", strings.ToUpper(good), body); r.Status != http.StatusOK {
		t.Fatalf("uppercase signature: %+v", r)
	}
	// PUT and PATCH are what the Actions destination may use.
	for _, m := range []string{http.MethodPut, http.MethodPatch} {
		req, _ := http.NewRequest(m, h.URL+"/api/public/webhooks/segment", bytes.NewReader(body))
		req.Header.Set("X-Signature", good)
		if r := h.Do(req); r.Status != http.StatusOK || r.Duplicates != 1 {
			t.Fatalf("%s: %+v", m, r)
		}
	}
}

func TestWebhookNoSecretAnswers503(t *testing.T) {
	t.Parallel()
	fx := webtest.Fixtures(t)
	st := testdb.Open(t)
	h := webtest.StartHook(t, st, nil)
	f := fx["identify.json"]
	r := h.Post("", f.Sig, f.Body)
	if r.Status != http.StatusServiceUnavailable || r.RetryAfter == "" || r.Error == "" {
		t.Fatalf("no secret: got %+v, want 503 with Retry-After", r)
	}
	if n := h.Count(h.WS.ID); n != 0 {
		t.Fatalf("stored %d events without a secret", n)
	}
	// Segment's retry after the admin saves the secret gets in.
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	if r := h.Post("", f.Sig, f.Body); r.Status != http.StatusOK || r.Accepted != 1 {
		t.Fatalf("after saving the secret: %+v", r)
	}
}

func TestWebhookWorkspaceSelection(t *testing.T) {
	t.Parallel()
	fx := webtest.Fixtures(t)
	st := testdb.Open(t)
	h := webtest.StartHook(t, st, nil)
	ctx := context.Background()
	other, err := st.CreateWorkspace(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	h.SetSecret(other.ID, "the-other-workspace-secret")
	f := fx["track.json"]
	otherSig := webtest.Sign("the-other-workspace-secret", f.Body)

	check := func(name string, r webtest.HookReply, status int) {
		t.Helper()
		if r.Status != status {
			t.Errorf("%s: got %+v, want %d", name, r, status)
		}
		if status >= 400 && r.Error == "" {
			t.Errorf("%s: no error message", name)
		}
	}
	q := "?workspaceId=" + other.ID.String()
	check("default secret on other workspace", h.Post(q, f.Sig, f.Body), http.StatusUnauthorized)
	check("other secret on default workspace", h.Post("", otherSig, f.Body), http.StatusUnauthorized)
	check("invalid id", h.Post("?workspaceId=nope", otherSig, f.Body), http.StatusBadRequest)
	check("invalid header", h.Post("", otherSig, f.Body, "df-workspace-id", "12"), http.StatusBadRequest)
	check("unknown id", h.Post("?workspaceId="+uuid.NewString(), otherSig, f.Body), http.StatusNotFound)
	check("query and header disagree", h.Post(q, otherSig, f.Body, "df-workspace-id", h.WS.ID.String()), http.StatusBadRequest)
	check("query", h.Post(q, otherSig, f.Body), http.StatusOK)
	check("header", h.Post("", otherSig, f.Body, "df-workspace-id", other.ID.String()), http.StatusOK)
	check("both agree", h.Post(q, otherSig, f.Body, "df-workspace-id", strings.ToUpper(other.ID.String())), http.StatusOK)
	if n := h.Count(h.WS.ID); n != 0 {
		t.Errorf("default workspace got %d events", n)
	}
	if n := h.Count(other.ID); n != 1 {
		t.Errorf("other workspace has %d events, want 1", n)
	}
}

func TestWebhookBadBodiesStoreNothing(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	h := webtest.StartHook(t, st, nil)
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	h.AcceptFirstElement(h.WS.ID, true) // two cases are arrays signed over element 0
	valid := `{"type":"track","event":"A","userId":"u","messageId":"m-ok"}`
	cases := map[string]struct{ body, want string }{
		"invalid json":       {`{"type":`, ""},
		"not an event":       {`"hello"`, ""},
		"unknown type":       {`{"type":"purchase","userId":"u"}`, "type"},
		"track without name": {`{"type":"track","userId":"u"}`, "event"},
		"no user":            {`{"type":"identify"}`, "userId"},
		"trailing garbage":   {valid + `xyz`, ""},
		"array with string":  {`[` + valid + `,"x"]`, "1"},
		"array with bad one": {`[` + valid + `,{"type":"group","userId":"u"}]`, "groupId"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			body := []byte(c.body)
			sig := webtest.Sign(webtest.FixtureSecret, body)
			if strings.HasPrefix(c.body, "[") {
				sig = webtest.Sign(webtest.FixtureSecret, []byte(valid))
			}
			r := h.Post("", sig, body)
			if r.Status != http.StatusBadRequest || r.Error == "" {
				t.Fatalf("got %+v, want 400 with a message", r)
			}
			if !strings.Contains(r.Error, c.want) {
				t.Errorf("message %q does not name %q", r.Error, c.want)
			}
		})
	}
	if n := h.Count(h.WS.ID); n != 0 {
		t.Fatalf("rejected requests stored %d events (a batch is all-or-nothing)", n)
	}
}

func TestWebhookBodyLimit(t *testing.T) {
	t.Parallel()
	st := testdb.Open(t)
	h := webtest.StartHook(t, st, map[string]string{"MAX_BODY_BYTES": "2048"})
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	big := []byte(`{"type":"track","event":"A","userId":"u","properties":{"p":"` + strings.Repeat("x", 3000) + `"}}`)
	if r := h.Post("", webtest.Sign(webtest.FixtureSecret, big), big); r.Status != http.StatusRequestEntityTooLarge || r.Error == "" {
		t.Fatalf("declared length over limit: %+v", r)
	}
	// Without a Content-Length the server still stops at the limit.
	req, _ := http.NewRequest(http.MethodPost, h.URL+"/api/public/webhooks/segment", struct{ *bytes.Reader }{bytes.NewReader(big)})
	req.Header.Set("X-Signature", webtest.Sign(webtest.FixtureSecret, big))
	req.ContentLength = -1
	if r := h.Do(req); r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked body over limit: %+v", r)
	}
	small := []byte(`{"type":"track","event":"A","userId":"u","messageId":"fits"}`)
	if r := h.Post("", webtest.Sign(webtest.FixtureSecret, small), small); r.Status != http.StatusOK {
		t.Fatalf("server must keep answering: %+v", r)
	}
}

func TestWebhookDedupeUnderRace(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		h := webtest.StartHook(t, st, nil)
		h.SetSecret(h.WS.ID, webtest.FixtureSecret)
		const copies = 24
		for round := 0; round < 3; round++ {
			body := []byte(fmt.Sprintf(`{"type":"track","event":"Race","userId":"u","messageId":"race-%d"}`, round))
			sig := webtest.Sign(webtest.FixtureSecret, body)
			var wg sync.WaitGroup
			replies := make([]webtest.HookReply, copies)
			for i := range copies {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replies[i] = h.Post("", sig, body)
				}()
			}
			wg.Wait()
			accepted := 0
			for _, r := range replies {
				if r.Status != http.StatusOK {
					t.Fatalf("copy answered %+v", r)
				}
				accepted += r.Accepted
				if r.Accepted+r.Duplicates != 1 {
					t.Fatalf("each copy holds one event: %+v", r)
				}
			}
			if accepted != 1 {
				t.Fatalf("round %d: %d copies reported accepted, want exactly 1", round, accepted)
			}
		}
		if n := h.Count(h.WS.ID); n != 3 {
			t.Fatalf("stored %d rows, want 3", n)
		}
		// No messageId: the derived id makes the retry a duplicate too.
		body := []byte(`{"type":"identify","userId":"no-mid","traits":{"a":1}}`)
		sig := webtest.Sign(webtest.FixtureSecret, body)
		if r := h.Post("", sig, body); r.Accepted != 1 {
			t.Fatalf("first: %+v", r)
		}
		if r := h.Post("", sig, body); r.Status != http.StatusOK || r.Duplicates != 1 || r.Accepted != 0 {
			t.Fatalf("retry without messageId: %+v", r)
		}
	})
}

// Issue 19 item 17: the webhook URL pasted with a trailing slash is the same
// webhook (Segment treats a 404 as final), with and without a workspace id.
func TestWebhookTrailingSlash(t *testing.T) {
	t.Parallel()
	fx := webtest.Fixtures(t)
	h := webtest.StartHook(t, testdb.SQLite(t), nil)
	h.SetSecret(h.WS.ID, webtest.FixtureSecret)
	if r := h.Post("/", fx["identify.json"].Sig, fx["identify.json"].Body); r.Status != http.StatusOK || r.Accepted != 1 {
		t.Fatalf("POST …/segment/: %+v, want 200 with 1 accepted", r)
	}
	if r := h.Post("/?workspaceId="+h.WS.ID.String(), fx["track.json"].Sig, fx["track.json"].Body); r.Status != http.StatusOK || r.Accepted != 1 {
		t.Fatalf("POST …/segment/?workspaceId=: %+v, want 200 with 1 accepted", r)
	}
	if n := h.Count(h.WS.ID); n != 2 {
		t.Fatalf("%d events stored, want 2", n)
	}
}
