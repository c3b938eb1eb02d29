package web

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// Source names where events came from, stored with each event.
const SourceWebhook = "webhook"

// noSecretRetryAfter is long enough not to hammer us, short enough that
// events arrive soon after the admin saves the secret.
const noSecretRetryAfter = 30

// webhookSegment takes what Segment's Webhooks destinations post.
func (s *Server) webhookSegment(c echo.Context) error {
	start := time.Now()
	req := c.Request()
	ws, aerr := s.resolveWorkspace(c)
	if aerr != nil {
		s.logWebhook(c, uuid.Nil, "refused", 0, aerr, start)
		return writeJSONError(c, aerr)
	}
	deliver := func(outcome string, aerr *apiError, res ingest.Result) error {
		status := http.StatusOK
		reason := ""
		if aerr != nil {
			status, reason = aerr.Status, aerr.Msg
		}
		s.attempts.Record(Attempt{At: start, WorkspaceID: ws.ID, Source: SourceWebhook, Outcome: outcome, Reason: reason,
			Status: status, Accepted: res.Accepted, Duplicates: res.Duplicates})
		s.logWebhook(c, ws.ID, outcome, res.Accepted+res.Duplicates, aerr, start)
		if aerr != nil {
			return writeJSONError(c, aerr)
		}
		return c.JSONBlob(http.StatusOK, okBody(res))
	}

	if s.deps.Ingester.Saturated() {
		// Refused before parsing: under overload, parsing bodies only to
		// refuse them would take the CPU the admitted requests need.
		// net/http still drains a body under 256 KB to keep the connection
		// (Segment reuses it) and closes the connection on a larger one.
		return deliver(OutcomeUnavailable, ingestError(ingest.ErrOverloaded), ingest.Result{})
	}
	body, aerr := readBody(req, s.deps.Config.MaxBodyBytes)
	if aerr != nil {
		closeAfterReply(c)
		outcome := OutcomeTooLarge
		if aerr.Status != http.StatusRequestEntityTooLarge {
			outcome = OutcomeBadBody
		}
		return deliver(outcome, aerr, ingest.Result{})
	}
	secrets := ws.Secret.Valid(time.Now())
	if len(secrets) == 0 {
		// 503, not 4xx: Segment retries for hours, so events sent before the
		// admin saves the secret arrive once it is saved.
		return deliver(OutcomeNoSecret, unavailable("no shared secret is configured for this workspace yet: paste it in /dashboard/settings", noSecretRetryAfter), ingest.Result{})
	}
	keys := make([][]byte, len(secrets))
	for i, sec := range secrets {
		keys[i] = []byte(sec)
	}
	if err := segment.VerifyAny(keys, body, req.Header.Get("X-Signature")); err != nil {
		return deliver(OutcomeBadSignature, errorf(http.StatusUnauthorized, signatureMessage(err)), ingest.Result{})
	}
	// Admission: past the in-flight budget the answer is an immediate 503,
	// not a body parsed only to time out in the queue while every other
	// request slows down with it. It comes after the body is in and signed,
	// so neither a slow sender nor one without the secret can hold budget.
	release, err := s.deps.Ingester.Admit(int64(len(body)))
	if err != nil {
		return deliver(OutcomeUnavailable, ingestError(err), ingest.Result{})
	}
	defer release()
	events, err := segment.Parse(body)
	if err != nil {
		return deliver(OutcomeBadBody, errorf(http.StatusBadRequest, err.Error()), ingest.Result{})
	}
	res, err := s.deps.Ingester.Submit(req.Context(), toNewEvents(ws.ID, SourceWebhook, start, events))
	if err != nil {
		return deliver(OutcomeUnavailable, ingestError(err), res)
	}
	outcome := OutcomeAccepted
	if res.Accepted == 0 {
		outcome = OutcomeDuplicate
	}
	return deliver(outcome, nil, res)
}

// resolveWorkspace finds the workspace a request names by ?workspaceId= or
// the df-workspace-id header (Dittofeed's names, so existing Segment setups
// keep working), or the default one.
func (s *Server) resolveWorkspace(c echo.Context) (store.Workspace, *apiError) {
	q := strings.TrimSpace(c.QueryParam("workspaceId"))
	h := strings.TrimSpace(c.Request().Header.Get("df-workspace-id"))
	ctx := c.Request().Context() // the cache bounds its own lookups (lookupTimeout)
	var id uuid.UUID
	switch {
	case q == "" && h == "":
		def, err := s.secrets.defaultWorkspaceID(ctx)
		if err != nil {
			return store.Workspace{}, dbUnavailable()
		}
		id = def
	default:
		raw := q
		if raw == "" {
			raw = h
		}
		if q != "" && h != "" && !strings.EqualFold(q, h) {
			return store.Workspace{}, errorf(http.StatusBadRequest, "workspaceId query parameter and df-workspace-id header name different workspaces")
		}
		parsed, err := uuid.Parse(raw)
		if err != nil {
			return store.Workspace{}, errorf(http.StatusBadRequest, "workspaceId is not a valid workspace id (expected a UUID)")
		}
		id = parsed
	}
	ws, err := s.secrets.workspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, errorf(http.StatusNotFound, "no workspace with id "+id.String())
	}
	if err != nil {
		return store.Workspace{}, dbUnavailable()
	}
	return ws, nil
}

// preallocBody is the largest declared Content-Length read into a buffer
// sized up front. Larger bodies grow with the bytes that actually arrive, so
// a client announcing megabytes and sending nothing costs nothing.
const preallocBody = 64 << 10

// readBody reads at most limit bytes; anything longer is refused with 413
// without reading further.
func readBody(req *http.Request, limit int64) ([]byte, *apiError) {
	tooLarge := bodyTooLarge(limit)
	if req.ContentLength > limit {
		return nil, tooLarge
	}
	if req.ContentLength > 0 && req.ContentLength <= preallocBody {
		// net/http ends the body at Content-Length, so one exact-size buffer
		// does; io.ReadAll would grow and copy its way up to it.
		body := make([]byte, req.ContentLength)
		if _, err := io.ReadFull(req.Body, body); err != nil {
			return nil, readError(err)
		}
		return body, nil
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, limit+1))
	if err != nil {
		return nil, readError(err)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge
	}
	return body, nil
}

// closeAfterReply answers a request whose body was not (all) read on a
// connection that then closes. Otherwise net/http would first try to read
// and discard up to 256 KB of the unread body, so a 413 for a body that is
// never sent would wait for the read timeout.
func closeAfterReply(c echo.Context) {
	c.Response().Header().Set(echo.HeaderConnection, "close")
}

func bodyTooLarge(limit int64) *apiError {
	return errorf(http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than the %d-byte limit", limit))
}

// readError explains a body that did not arrive whole, without echoing
// addresses from the network error.
func readError(err error) *apiError {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errorf(http.StatusRequestTimeout, "the body did not arrive within the read timeout")
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return bodyTooLarge(mbe.Limit)
	}
	return errorf(http.StatusBadRequest, "the body ended before its announced length or could not be read")
}

func signatureMessage(err error) string {
	switch {
	case errors.Is(err, segment.ErrSignatureMissing):
		return "missing X-Signature header"
	case errors.Is(err, segment.ErrSignatureMalformed):
		return "malformed X-Signature header: expected 40 hex characters (HMAC-SHA1)"
	default:
		return "X-Signature does not match: check the shared secret in Segment and in /dashboard/settings"
	}
}

func ingestError(err error) *apiError {
	switch {
	case errors.Is(err, ingest.ErrOverloaded):
		return unavailable("too many events in flight, try again", 2)
	case errors.Is(err, ingest.ErrClosed):
		return unavailable("shutting down, try again", 5)
	case errors.Is(err, ingest.ErrRejected):
		return errorf(http.StatusBadRequest, "the database refused these events")
	default:
		return dbUnavailable()
	}
}

func toNewEvents(ws uuid.UUID, source string, at time.Time, events []segment.Event) []store.NewEvent {
	out := make([]store.NewEvent, len(events))
	at = at.UTC()
	for i, e := range events {
		out[i] = store.NewEvent{
			WorkspaceID: ws, MessageID: e.MessageID, Type: e.Type, Event: e.Event,
			UserID: e.UserID, AnonymousID: e.AnonymousID, GroupID: e.GroupID, PreviousID: e.PreviousID,
			Timestamp: e.Timestamp, ReceivedAt: at, Source: source, Raw: e.Raw,
		}
	}
	return out
}

// okBody is the 200 answer, written by hand: it is sent for every stored
// delivery, and reflection-based JSON of a map costs more than the rest of
// the response.
func okBody(res ingest.Result) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"ok":true,"accepted":`...)
	b = strconv.AppendInt(b, int64(res.Accepted), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(res.Duplicates), 10)
	return append(b, '}')
}

func (s *Server) logWebhook(c echo.Context, ws uuid.UUID, outcome string, n int, aerr *apiError, start time.Time) {
	level := slog.LevelInfo
	if aerr != nil {
		level = slog.LevelWarn
	}
	// Building the attributes and the request-scoped logger is most of a
	// line's cost; skip it when the line would be dropped (LOG_LEVEL=warn).
	if !s.log.Enabled(c.Request().Context(), level) {
		return
	}
	attrs := []any{"workspace", ws, "outcome", outcome, "events", n, "ms", time.Since(start).Milliseconds()}
	if aerr != nil {
		attrs = append(attrs, "status", aerr.Status, "reason", aerr.Msg)
		s.logger(c).Warn("webhook", attrs...)
		return
	}
	s.logger(c).Info("webhook", attrs...)
}
