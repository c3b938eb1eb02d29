package webhook_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// Security review item 1: one captured single-event delivery, used as
// element 0 of an array with its X-Signature, must not carry forged events.
func TestCapturedSignatureCannotForgeEvents(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		deps := webtest.Deps(t, webtest.Config(t, nil), st, webtest.Logger(t))
		srv, _ := webtest.Open(t, deps, st, ingest.Options{})
		ws, _ := st.DefaultWorkspace(context.Background())
		h := &webtest.Hook{T: t, St: st, Srv: srv, URL: "http://" + srv.Addr(), WS: ws}
		h.SetSecret(ws.ID, webtest.FixtureSecret)

		captured := []byte(`{"type":"track","event":"Order Completed","userId":"u1","messageId":"order-991"}`)
		capturedSig := webtest.Sign(webtest.FixtureSecret, captured)
		if r := h.Post("", capturedSig, captured); r.Status != http.StatusOK || r.Accepted != 1 {
			t.Fatalf("genuine delivery: %+v", r)
		}
		forge := func(n int, tag string) []byte {
			var b strings.Builder
			b.WriteString("[")
			b.Write(captured)
			for i := range n {
				fmt.Fprintf(&b, `,{"type":"track","event":"Forged","userId":"x","messageId":"forged-%s-%d"}`, tag, i)
			}
			b.WriteString("]")
			return []byte(b.String())
		}

		// Default settings: refused, nothing stored, and the delivery log's
		// reason names the setting.
		r := h.Post("", capturedSig, forge(8000, "a"))
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Error, "Accept batches signed over their first event only") {
			t.Fatalf("forged batch with default settings: %+v", r)
		}
		if n := h.Count(ws.ID); n != 1 {
			t.Fatalf("%d events stored, want only the genuine one", n)
		}
		snap := deps.Status.Snapshot(ws.ID)
		if len(snap.Recent) == 0 || !strings.Contains(snap.Recent[0].Reason, "Accept batches signed over their first event only") {
			t.Fatalf("delivery log does not name the setting: %+v", snap.Recent)
		}

		// Turned on: element 0 is already stored, so new events behind it are
		// refused (409) with nothing stored...
		h.AcceptFirstElement(ws.ID, true)
		if r := h.Post("", capturedSig, forge(10, "b")); r.Status != http.StatusConflict {
			t.Fatalf("forged batch behind a stored element 0: %+v", r)
		}
		if n := h.Count(ws.ID); n != 1 {
			t.Fatalf("%d events stored after the replay, want 1", n)
		}
		// ...a fresh element-0 batch goes in once, its exact retry is all
		// duplicates, and arrays over FIRST_ELEMENT_MAX_EVENTS are refused.
		first := []byte(`{"type":"track","event":"Batched","userId":"u2","messageId":"batch-0"}`)
		batch := []byte("[" + string(first) + `,{"type":"track","event":"Batched","userId":"u2","messageId":"batch-1"}]`)
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, first), batch); r.Status != http.StatusOK || r.Accepted != 2 {
			t.Fatalf("element-0 batch when accepted: %+v", r)
		}
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, first), batch); r.Status != http.StatusOK || r.Accepted != 0 || r.Duplicates != 2 {
			t.Fatalf("its retry: %+v", r)
		}
		fresh := []byte(`{"type":"track","event":"Big","userId":"u3","messageId":"big-0"}`)
		var big strings.Builder
		big.WriteString("[" + string(fresh))
		for i := range 1000 {
			fmt.Fprintf(&big, `,{"type":"track","event":"Big","userId":"u3","messageId":"big-%d"}`, i+1)
		}
		big.WriteString("]")
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, fresh), []byte(big.String())); r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("1001-event element-0 batch: %+v", r)
		}
		// Whole-body signatures keep working as before, arrays included.
		whole := forge(3, "c")
		if r := h.Post("", webtest.Sign(webtest.FixtureSecret, whole), whole); r.Status != http.StatusOK || r.Accepted != 3 {
			t.Fatalf("array signed whole: %+v", r)
		}
	})
}
