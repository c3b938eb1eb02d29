package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// SourceHTTPAPI marks events that came through the HTTP Tracking API.
const SourceHTTPAPI = "http_api"

// trackingAPI serves Segment's HTTP Tracking API (/v1/*), so apps and
// Segment's own libraries can send to Inlet directly, authenticated by a
// workspace's write key instead of a shared secret.
type trackingAPI struct {
	s    *Server
	keys *writeKeyCache
}

func (s *Server) newTrackingAPI() *trackingAPI {
	return &trackingAPI{s: s, keys: newWriteKeyCache(s.deps.Store, 5*time.Second, s.log)}
}

// handler serves one path; kind is the event type a single-call path implies
// ("track" for /v1/track and /v1/t), "" for the batch paths.
func (a *trackingAPI) handler(kind string) echo.HandlerFunc {
	return func(c echo.Context) error { return a.serve(c, kind) }
}

// trackingCall is what one call has learned so far, for its attempt record
// and log line.
type trackingCall struct {
	start time.Time
	key   store.WriteKey // zero until authenticated (or found revoked)
}

func (a *trackingAPI) serve(c echo.Context, kind string) error {
	call := trackingCall{start: time.Now()}
	req := c.Request()
	ctx := req.Context()

	// A key in the header is checked before the body is read, so callers
	// without a valid key cost no more than a cache lookup.
	key, aerr := basicAuthKey(req)
	if aerr != nil {
		return a.finish(c, call, status.OutcomeBadKey, aerr, ingest.Result{})
	}
	if key != "" {
		if call.key, aerr = a.authenticate(ctx, key); aerr != nil {
			return a.finish(c, call, authOutcome(aerr), aerr, ingest.Result{})
		}
	}
	body, outcome, aerr := readTrackingBody(req)
	if aerr != nil {
		return a.finish(c, call, outcome, aerr, ingest.Result{})
	}
	top, aerr := topLevel(body)
	if aerr != nil {
		return a.finish(c, call, OutcomeBadBody, aerr, ingest.Result{})
	}
	if key == "" {
		if key, aerr = bodyWriteKey(top); aerr != nil {
			return a.finish(c, call, status.OutcomeBadKey, aerr, ingest.Result{})
		}
		if key == "" {
			return a.finish(c, call, status.OutcomeBadKey, missingKey(), ingest.Result{})
		}
		if call.key, aerr = a.authenticate(ctx, key); aerr != nil {
			return a.finish(c, call, authOutcome(aerr), aerr, ingest.Result{})
		}
	}

	// The same admission as the webhook: past the in-flight budget the
	// answer is an immediate "try again", and only authenticated callers
	// ever hold budget.
	release, err := a.s.deps.Ingester.Admit(int64(len(body)))
	if err != nil {
		return a.finish(c, call, OutcomeUnavailable, trackingIngestError(err), ingest.Result{})
	}
	defer release()
	events, aerr := parseTracking(body, top, kind)
	if aerr != nil {
		return a.finish(c, call, OutcomeBadBody, aerr, ingest.Result{})
	}
	rows := toNewEventsFromKey(call.key, call.start, events)
	res, err := a.s.deps.Ingester.Submit(ctx, rows)
	if err != nil {
		return a.finish(c, call, OutcomeUnavailable, trackingIngestError(err), res)
	}
	a.keys.used(call.key.ID, call.start)
	outcome = OutcomeAccepted
	if res.Accepted == 0 {
		outcome = OutcomeDuplicate
	}
	return a.finish(c, call, outcome, nil, res)
}

// authenticate finds an active key. An unknown key is 401 without a
// workspace; a revoked one is 401 with its key (and workspace) filled in, so
// the dashboard can show that something still uses it.
func (a *trackingAPI) authenticate(ctx context.Context, key string) (store.WriteKey, *apiError) {
	k, err := a.keys.lookup(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.WriteKey{}, errorf(http.StatusUnauthorized, "unknown write key: create one in /dashboard/settings")
	case err != nil:
		return store.WriteKey{}, dbUnavailable()
	case !k.Active():
		return k, errorf(http.StatusUnauthorized, "this write key was revoked: create a new one in /dashboard/settings")
	}
	return k, nil
}

func authOutcome(aerr *apiError) string {
	if aerr.Status == http.StatusUnauthorized {
		return status.OutcomeBadKey
	}
	return OutcomeUnavailable
}

func missingKey() *apiError {
	return errorf(http.StatusUnauthorized, "missing write key: send it as the HTTP Basic user name (empty password) or as writeKey in the body")
}

// finish answers the call, records it for the workspace's connection status
// (when the workspace is known) and logs one line.
func (a *trackingAPI) finish(c echo.Context, call trackingCall, outcome string, aerr *apiError, res ingest.Result) error {
	code, reason := http.StatusOK, ""
	if aerr != nil {
		code, reason = aerr.Status, aerr.Msg
	}
	if call.key.WorkspaceID != uuid.Nil {
		a.s.attempts.Record(Attempt{At: call.start, WorkspaceID: call.key.WorkspaceID, Source: SourceHTTPAPI,
			Outcome: outcome, Reason: reason, Status: code, Accepted: res.Accepted, Duplicates: res.Duplicates})
	}
	attrs := []any{"workspace", call.key.WorkspaceID, "key_id", call.key.ID, "path", c.Request().URL.Path,
		"outcome", outcome, "events", res.Accepted + res.Duplicates, "ms", time.Since(call.start).Milliseconds()}
	if rc := c.Request().Header.Get("X-Retry-Count"); rc != "" {
		if n, err := strconv.Atoi(rc); err == nil {
			attrs = append(attrs, "retry", n)
		}
	}
	if aerr != nil {
		attrs = append(attrs, "status", aerr.Status, "reason", aerr.Msg)
		a.s.logger(c).Warn("http_api", attrs...)
		if aerr.Status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="Inlet HTTP API"`)
		}
		return writeJSONError(c, aerr)
	}
	a.s.logger(c).Info("http_api", attrs...)
	return c.JSON(http.StatusOK, map[string]bool{"success": true})
}

// trackingIngestError is ingestError with one change: a full queue is 429,
// which Segment's libraries wait out (honouring Retry-After) without using
// up their retries.
func trackingIngestError(err error) *apiError {
	aerr := ingestError(err)
	if errors.Is(err, ingest.ErrOverloaded) {
		aerr.Status = http.StatusTooManyRequests
	}
	return aerr
}

// toNewEventsFromKey is toNewEvents for the HTTP API: each row also names
// the write key that sent it.
func toNewEventsFromKey(k store.WriteKey, at time.Time, events []segment.Event) []store.NewEvent {
	out := toNewEvents(k.WorkspaceID, SourceHTTPAPI, at, events)
	for i := range out {
		out[i].SourceKey = k.ID.String()
	}
	return out
}

// basicAuthKey returns the write key sent as the HTTP Basic user name, ""
// when there is no Authorization header (the key may be in the body).
func basicAuthKey(req *http.Request) (string, *apiError) {
	if req.Header.Get("Authorization") == "" {
		return "", nil
	}
	user, _, ok := req.BasicAuth()
	if !ok || user == "" {
		return "", errorf(http.StatusUnauthorized, "Authorization must be HTTP Basic with the write key as user name and an empty password")
	}
	return user, nil
}

// bodyWriteKey returns the body's top-level writeKey, "" when absent.
func bodyWriteKey(top map[string]json.RawMessage) (string, *apiError) {
	v, ok := top["writeKey"]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var key string
	if err := json.Unmarshal(v, &key); err != nil {
		return "", errorf(http.StatusUnauthorized, "writeKey must be a string")
	}
	return key, nil
}
