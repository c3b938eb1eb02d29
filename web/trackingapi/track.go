package trackingapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/reqlog"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// call is what one call has learned so far, for its attempt record and log
// line.
type call struct {
	start   time.Time
	key     store.WriteKey // zero until authenticated (or found revoked)
	outcome string
	res     ingest.Result
}

// serve answers one call. Refusals are returned as errors and answered by
// the server's error mapping; the call is recorded and logged just before
// the answer is written, with the status and reason actually sent.
func (h *Handler) serve(c echo.Context, kind string) error {
	cl := &call{start: time.Now()}
	c.Response().Before(func() { h.record(c, cl) })
	if err := h.receive(c, cl, kind); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"success": true})
}

func (h *Handler) receive(c echo.Context, cl *call, kind string) error {
	req := c.Request()
	ctx := req.Context()

	// A key in the header is checked before the body is read, so callers
	// without a valid key cost no more than a cache lookup.
	cl.outcome = status.OutcomeBadKey
	key, err := basicAuthKey(req)
	if err != nil {
		return err
	}
	if key != "" {
		if err := h.authenticate(ctx, cl, key); err != nil {
			return err
		}
	}
	// Memory for the body is reserved before it is read, from the same read
	// budget as the webhook: callers with the key in the body (or none) are
	// not authenticated until it is in, so what they can make us hold is
	// bounded as a whole, however many send at once.
	cl.outcome = status.OutcomeUnavailable
	releaseRead, err := h.reserveRead(req)
	if err != nil {
		c.Response().Header().Set(echo.HeaderConnection, "close")
		return slowDown(err)
	}
	defer releaseRead()
	body, outcome, err := readBody(req)
	if err != nil {
		cl.outcome = outcome
		return err
	}
	top, err := topLevel(body)
	if err != nil {
		cl.outcome = status.OutcomeBadBody
		return err
	}
	if key == "" {
		if key, err = bodyWriteKey(top); err != nil {
			return err
		}
		if key == "" {
			return apperr.New(apperr.Unauthorized, "missing write key: send it as the HTTP Basic user name (empty password) or as writeKey in the body")
		}
		if err := h.authenticate(ctx, cl, key); err != nil {
			return err
		}
	}

	// The same admission as the webhook: past the in-flight budget the
	// answer is an immediate "try again", and only authenticated callers
	// ever hold budget.
	cl.outcome = status.OutcomeUnavailable
	release, err := h.Ingester.Admit(int64(len(body)))
	if err != nil {
		return slowDown(err)
	}
	defer release()
	releaseRead() // the in-flight budget holds the body from here on
	events, err := parse(body, top, kind)
	if err != nil {
		cl.outcome = status.OutcomeBadBody
		return err
	}
	// The key's kind as cached now decides for these events for good: a
	// rebuild must decide the same, whatever the key becomes later.
	rows := ingest.Rows(cl.key.WorkspaceID, status.SourceHTTPAPI, cl.key.ID.String(), cl.key.Trusted(), cl.start, events)
	if cl.res, err = h.Ingester.Submit(ctx, rows); err != nil {
		return slowDown(err)
	}
	h.Keys.Used(cl.key.ID, cl.start)
	switch {
	case cl.res.Accepted > 0:
		cl.outcome = status.OutcomeAccepted
	case cl.res.Suppressed > 0:
		cl.outcome = status.OutcomeSuppressed
	default:
		cl.outcome = status.OutcomeDuplicate
	}
	return nil
}

// reserveRead takes read budget for the body about to be read: its declared
// length (or the whole limit without one), plus room for the decompressed
// JSON when it is gzip.
func (h *Handler) reserveRead(req *http.Request) (func(), error) {
	n := ingest.BodyBudget(req.ContentLength, maxTrackingBody)
	if enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding"))); enc == "gzip" || enc == "x-gzip" {
		n += maxTrackingBody
	}
	return h.Ingester.ReserveBody(req.Context(), n)
}

// authenticate finds an active key. An unknown key is refused without a
// workspace; a revoked one with its key (and workspace) filled in, so the
// dashboard can show that something still uses it.
func (h *Handler) authenticate(ctx context.Context, cl *call, key string) error {
	k, err := h.Keys.Lookup(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return &apperr.Error{Code: apperr.Unauthorized, Msg: "unknown write key: create one in /dashboard/settings", Err: err}
	case err != nil:
		cl.outcome = status.OutcomeUnavailable
		return fmt.Errorf("write key: %w", err)
	}
	cl.key = k
	if !k.Active() {
		return apperr.New(apperr.Unauthorized, "this write key was revoked: create a new one in /dashboard/settings")
	}
	return nil
}

// slowDown gives overload the Tracking API's answer: 429, which Segment's
// libraries wait out (honouring Retry-After) without using up their
// retries, where the webhook answers 503.
func slowDown(err error) error {
	if errors.Is(err, ingest.ErrOverloaded) {
		return apperr.Wrap(apperr.TooMany, err)
	}
	return err
}

// record notes the call for the workspace's connection status (when the
// workspace is known) and logs one line, just before the answer is written.
func (h *Handler) record(c echo.Context, cl *call) {
	code := c.Response().Status
	reply, refused := apperr.ReplyOf(c)
	if cl.key.WorkspaceID != uuid.Nil {
		cred := status.KeyLabel(cl.key.Name, cl.key.Prefix)
		if !cl.key.Active() {
			cred = "revoked key " + cred
		}
		h.Attempts.Record(status.Attempt{At: cl.start, WorkspaceID: cl.key.WorkspaceID, Source: status.SourceHTTPAPI,
			Outcome: cl.outcome, Reason: reply.Message, Status: code, Accepted: cl.res.Accepted, Duplicates: cl.res.Duplicates, Suppressed: cl.res.Suppressed,
			Credential: cred})
	}
	if code == http.StatusUnauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="Inlet HTTP API"`)
	}
	attrs := []any{"workspace", cl.key.WorkspaceID, "key_id", cl.key.ID, "path", c.Request().URL.Path,
		"outcome", cl.outcome, "events", cl.res.Accepted + cl.res.Duplicates + cl.res.Suppressed, "ms", time.Since(cl.start).Milliseconds()}
	if rc := c.Request().Header.Get("X-Retry-Count"); rc != "" {
		if n, err := strconv.Atoi(rc); err == nil {
			attrs = append(attrs, "retry", n)
		}
	}
	level := slog.LevelInfo
	if refused {
		level = slog.LevelWarn
		attrs = append(attrs, "status", code, "reason", reply.Message)
	}
	reqlog.From(c.Request().Context()).Log(c.Request().Context(), level, "http_api", attrs...)
}

// basicAuthKey returns the write key sent as the HTTP Basic user name, ""
// when there is no Authorization header (the key may be in the body).
func basicAuthKey(req *http.Request) (string, error) {
	if req.Header.Get("Authorization") == "" {
		return "", nil
	}
	user, _, ok := req.BasicAuth()
	if !ok || user == "" {
		return "", apperr.New(apperr.Unauthorized, "Authorization must be HTTP Basic with the write key as user name and an empty password")
	}
	return user, nil
}

// bodyWriteKey returns the body's top-level writeKey, "" when absent.
func bodyWriteKey(top map[string]json.RawMessage) (string, error) {
	v, ok := top["writeKey"]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var key string
	if err := json.Unmarshal(v, &key); err != nil {
		return "", apperr.New(apperr.Unauthorized, "writeKey must be a string")
	}
	return key, nil
}
