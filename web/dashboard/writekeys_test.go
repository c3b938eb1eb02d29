package dashboard_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/testutil"
	"github.com/inlet-dev/inlet/web/webtest"
)

func TestWriteKeysOnSettings(t *testing.T) {
	t.Parallel()
	d := webtest.StartDashboard(t, webtest.DashOptions{})
	ctx := context.Background()
	p := d.C.MustSignIn()
	if p.Doc.Find("#http-api-source").Length() != 1 || p.Doc.Find("#no-write-keys").Length() != 1 {
		t.Fatalf("settings must have an empty HTTP API section:\n%s", p.Body)
	}
	if node := p.Text("#snippet-node"); !strings.Contains(node, "YOUR_WRITE_KEY") || !strings.Contains(node, "host: 'http://inlet.test'") {
		t.Fatalf("analytics-node snippet: %q", node)
	}

	r := d.C.Submit(p, "#write-key-form", url.Values{"name": {"  "}})
	if r.Status != http.StatusUnprocessableEntity || r.Text("#write-key-name-error") == "" ||
		r.Attr("#write-key-name", "aria-invalid") != "true" {
		t.Fatalf("empty name: %d\n%s", r.Status, r.Body)
	}

	// Create: post/redirect/get. The key is in the page the redirect leads
	// to, at the top of its section, and only in that one.
	r = d.C.Submit(p, "#write-key-form", url.Values{"name": {"checkout <script>alert(1)</script>"}})
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "#http-api-source") {
		t.Fatalf("create: %d to %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	redirect := r
	r = d.C.Follow(r)
	if r.Status != http.StatusOK {
		t.Fatalf("after create: %d\n%s", r.Status, r.Body)
	}
	if first := r.Doc.Find("#http-api-source").Children().Eq(1); first.AttrOr("id", "") != "new-write-key" {
		t.Fatalf("the new key is not at the top of its section: %q comes first", first.AttrOr("id", first.Nodes[0].Data))
	}
	key := r.Attr("#new-key", "value")
	if bytes.Contains(redirect.Body, []byte(key)) || strings.Contains(redirect.Header.Get("Location"), key) {
		t.Fatal("the redirect itself carries the key")
	}
	if len(key) < 26 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("new key %q, Cache-Control %q", key, r.Header.Get("Cache-Control"))
	}
	for _, sel := range []string{"#snippet-node", "#snippet-curl"} {
		if !strings.Contains(r.Text(sel), key) {
			t.Errorf("%s must carry the new key: %q", sel, r.Text(sel))
		}
	}
	if r.Attr(`button[data-copy="#new-key"]`, "type") != "button" {
		t.Error("no copy button for the new key")
	}
	row := r.Doc.Find("#write-keys tbody tr").First()
	if got := strings.TrimSpace(row.Find(".key-name").Text()); got != "checkout <script>alert(1)</script>" {
		t.Fatalf("name shown as %q", got)
	}
	if r.Doc.Find("#http-api-source script").Length() != 0 {
		t.Fatal("a key's name became markup")
	}
	if got := strings.TrimSpace(row.Find(".key-prefix").Text()); got != key[:6]+"…" {
		t.Fatalf("prefix shown as %q", got)
	}

	// A reload shows nothing and creates nothing.
	p = d.C.Get("/dashboard/settings?ws=" + d.DefaultWS().ID.String())
	if bytes.Contains(p.Body, []byte(key)) || p.Doc.Find("#new-key").Length() != 0 {
		t.Fatal("the key is shown again after creation")
	}
	if n := p.Doc.Find("#write-keys tbody tr").Length(); n != 1 {
		t.Fatalf("%d keys after a reload, want 1", n)
	}
	if keys, err := d.St.WriteKeys(ctx, d.DefaultWS().ID); err != nil || len(keys) != 1 {
		t.Fatalf("stored keys: %d (%v)", len(keys), err)
	}
	if got := strings.TrimSpace(p.Doc.Find("#write-keys .key-last-used").First().Text()); got != "never" {
		t.Fatalf("last used of a fresh key: %q", got)
	}

	// The key works, and is now cached by the server.
	if got := d.SendWithKey(key, "before-revoke"); got != http.StatusOK {
		t.Fatalf("new key refused: %d", got)
	}

	revoke := `#write-keys tbody tr:first-child .revoke-key-form`
	r = d.C.Submit(p, revoke, nil)
	if r.Status != http.StatusUnprocessableEntity || r.Doc.Find(`details.revoke-key[open] .field-error`).Length() != 1 {
		t.Fatalf("revoke without the confirm box: %d\n%s", r.Status, r.Body)
	}
	if got := d.SendWithKey(key, "unconfirmed"); got != http.StatusOK {
		t.Fatalf("an unconfirmed revoke stopped the key: %d", got)
	}

	// Another workspace's form cannot revoke this workspace's key.
	other, err := d.St.CreateWorkspace(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	action := p.Attr(revoke, "action")
	vals := url.Values{"csrf_token": {p.Attr(revoke+` input[name="csrf_token"]`, "value")}, "workspace_id": {other.ID.String()}, "confirm": {"yes"}}
	if r = d.C.Post(action, vals); r.Status != http.StatusNotFound {
		t.Fatalf("revoke through another workspace: %d", r.Status)
	}
	// Nor can a request without the CSRF token.
	vals.Set("workspace_id", p.Attr(revoke+` input[name="workspace_id"]`, "value"))
	vals.Del("csrf_token")
	if r = d.C.Post(action, vals); r.Status != http.StatusForbidden {
		t.Fatalf("revoke without CSRF token: %d", r.Status)
	}
	if got := d.SendWithKey(key, "still-valid"); got != http.StatusOK {
		t.Fatalf("a refused revoke stopped the key: %d", got)
	}

	r = d.C.Submit(p, revoke, url.Values{"confirm": {"yes"}})
	if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "#http-api-source") {
		t.Fatalf("revoke: %d to %q", r.Status, r.Header.Get("Location"))
	}
	// At once, although the key was cached a moment ago.
	if got := d.SendWithKey(key, "after-revoke"); got != http.StatusUnauthorized {
		t.Fatalf("revoked key still accepted: %d", got)
	}
	p = d.C.Follow(r)
	if !strings.Contains(p.Text("#flash"), "revoked") || p.Doc.Find("#write-keys .badge-err").Length() != 1 ||
		p.Doc.Find("#write-keys .revoke-key-form").Length() != 0 {
		t.Fatalf("after revoke:\n%s", p.Body)
	}
	// Last used is written in the background after a call; wait for it, then
	// the page must show it.
	testutil.Wait(t, "last used to be recorded", func() bool {
		keys, err := d.St.WriteKeys(ctx, d.Workspace(ctx, "Default").ID)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys) == 1 && keys[0].LastUsedAt != nil
	})
	p = d.C.Get("/dashboard/settings")
	if got := strings.TrimSpace(p.Doc.Find("#write-keys .key-last-used").First().Text()); got == "never" || !strings.Contains(got, "UTC") {
		t.Errorf("last used shown as %q", got)
	}
}
