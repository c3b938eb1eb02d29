package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// testEventClient posts the test event to our own listener. Redirects are
// not followed: the webhook never redirects, so one would be a misconfiguration.
var testEventClient = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// TestEventSend proves the whole path works: it signs a sample identify
// event with the saved secret and posts it through the real webhook, then
// shows Inlet's own answer.
func (h *Handler) TestEventSend(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	if !ws.Secret.IsSet() {
		h.flash(c, "error", "Save a shared secret first: the test event is signed with it.")
		return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
	}
	status, answer, err := h.postTestEvent(c.Request().Context(), ws.ID, ws.Secret.Current)
	// The event is posted by this server to its own listener, never through
	// BASE_URL: say so, so a success here is not read as "Segment can reach us".
	reach := " This proves the secret and the database, not that Segment can reach " + h.BaseURL + "."
	if why := config.SegmentCannotReach(h.BaseURL); why != "" {
		reach = " Segment itself cannot reach " + h.BaseURL + ": " + why + " (see \"Expose Inlet to Segment\" in the README)."
	}
	switch {
	case err != nil:
		h.flash(c, "error", "The test event could not be sent: "+err.Error())
	case status == http.StatusOK:
		h.flash(c, "success", fmt.Sprintf("Test event posted internally (by this server to its own webhook): it answered %d %s.%s", status, answer, reach))
	default:
		h.flash(c, "error", fmt.Sprintf("The test event was posted internally and the webhook refused it: %d %s", status, answer))
	}
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID))
}

func (h *Handler) postTestEvent(ctx context.Context, ws uuid.UUID, secret string) (int, string, error) {
	addr := loopbackAddr(h.Addr())
	if addr == "" {
		return 0, "", fmt.Errorf("this server is not listening on a network address")
	}
	body, err := json.Marshal(map[string]any{
		"type":        segment.TypeIdentify,
		"messageId":   store.TestMessagePrefix + uuid.NewString(), // profiles and destinations skip it
		"userId":      "inlet-test-user",
		"anonymousId": "inlet-dashboard",
		"timestamp":   time.Now().UTC().Format(time.RFC3339Nano),
		"traits":      map[string]any{"name": "Inlet test event", "sentFrom": "dashboard settings"},
		"context": map[string]any{"library": map[string]any{"name": "inlet-dashboard", "version": "1"},
			"inlet": map[string]any{"test": true}},
	})
	if err != nil {
		return 0, "", fmt.Errorf("encode test event: %w", err)
	}
	u := "http://" + addr + webhookPath + "?workspaceId=" + ws.String()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, "", fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Inlet-Dashboard-Test/1.0")
	req.Header.Set("X-Signature", segment.Sign([]byte(secret), body))
	resp, err := testEventClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post to %s: %w", webhookPath, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, "", fmt.Errorf("read answer: %w", err)
	}
	return resp.StatusCode, strings.TrimSpace(string(answer)), nil
}

// loopbackAddr turns a listen address such as [::]:8080 into one we can dial.
func loopbackAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if ip != nil && ip.To4() == nil {
			host = "::1"
		} else {
			host = "127.0.0.1"
		}
	}
	return net.JoinHostPort(host, port)
}
