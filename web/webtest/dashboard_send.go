package webtest

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
)

// PostHook sends a fixture body signed with secret to the webhook of ws and
// returns the status: how a dashboard test proves a saved secret works.
func (d *Dash) PostHook(ws store.Workspace, secret string) int {
	d.T.Helper()
	_, self, _, _ := runtime.Caller(0)
	body, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "internal", "segment", "testdata", "track.json"))
	if err != nil {
		d.T.Fatal(err)
	}
	u := d.URL + "/api/public/webhooks/segment"
	if !ws.IsDefault {
		u += "?workspaceId=" + ws.ID.String()
	}
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		d.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", segment.Sign([]byte(secret), body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.T.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// SendWithKey posts one track call to d's HTTP API and returns the status.
func (d *Dash) SendWithKey(key, messageID string) int {
	d.T.Helper()
	req, err := http.NewRequest(http.MethodPost, d.URL+"/v1/track",
		bytes.NewReader([]byte(TrackJSON(messageID, 0))))
	if err != nil {
		d.T.Fatal(err)
	}
	req.SetBasicAuth(key, "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.T.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// SecretOf is ws's stored secret.
func (d *Dash) SecretOf(ws store.Workspace) store.SecretInfo {
	d.T.Helper()
	w, err := d.St.Workspace(context.Background(), ws.ID)
	if err != nil {
		d.T.Fatal(err)
	}
	return w.Secret
}

// SaveSecret submits the secret form of the settings page and returns the page after the redirect.
func (b *Browser) SaveSecret(settings Page, secret string) Page {
	b.T.Helper()
	p := b.Submit(settings, "#secret-form", url.Values{"secret": {secret}})
	if p.Status != http.StatusSeeOther {
		b.T.Fatalf("save secret: %d: %s", p.Status, p.Body)
	}
	return b.Follow(p)
}
