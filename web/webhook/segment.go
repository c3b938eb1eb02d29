package webhook

import (
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
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/labstack/echo/v4"
)

// noSecretRetryAfter is long enough not to hammer us, short enough that
// events arrive soon after the admin saves the secret.
const noSecretRetryAfter = 30

// delivery is what one request has learned so far, for its attempt record
// and log line.
type delivery struct {
	start   time.Time
	ws      uuid.UUID // uuid.Nil until the workspace is known
	outcome string
	res     ingest.Result
	erased  int // Segment deletion requests honoured
	// credential names the secret that verified the body ("current …a1b2",
	// "previous …c3d4"), so the admin sees when Segment switched secrets.
	credential string
}

// Segment takes what Segment's Webhooks destinations post. Refusals are
// returned as errors and answered by the server's error mapping; the
// delivery is recorded and logged just before the answer is written, with
// the status and reason actually sent.
func (h *Handler) Segment(c echo.Context) error {
	d := &delivery{start: time.Now(), outcome: "refused"}
	c.Response().Before(func() { h.record(c, d) })
	if err := h.receive(c, d); err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, okBody(d.res, d.erased))
}

func (h *Handler) receive(c echo.Context, d *delivery) error {
	req := c.Request()
	ws, err := h.workspace(c)
	if err != nil {
		return err
	}
	d.ws = ws.ID
	d.outcome = status.OutcomeUnavailable
	if h.Ingester.Saturated() {
		// Refused before parsing: under overload, parsing bodies only to
		// refuse them would take the CPU the admitted requests need.
		// net/http still drains a body under 256 KB to keep the connection
		// (Segment reuses it) and closes the connection on a larger one.
		return ingest.ErrOverloaded
	}
	// Memory for the body is reserved before a byte of it is read, so what
	// senders nobody has authenticated yet can make us hold is bounded as a
	// whole (INGEST_READ_BYTES), however many send at once. Waiting for it,
	// rather than refusing at once, lets a signed request through in its turn
	// while unsigned ones flood in.
	releaseRead, err := h.Ingester.ReserveBody(c.Request().Context(), ingest.BodyBudget(c.Request().ContentLength, h.MaxBodyBytes))
	if err != nil {
		closeAfterReply(c)
		return err
	}
	defer releaseRead()
	body, err := readBody(req, h.MaxBodyBytes)
	if err != nil {
		closeAfterReply(c)
		d.outcome = status.OutcomeBadBody
		if tooLarge := new(http.MaxBytesError); errors.As(err, &tooLarge) {
			d.outcome = status.OutcomeTooLarge
		}
		return err
	}
	secrets := ws.Secret.Verifying(time.Now())
	if len(secrets) == 0 {
		// 503, not 4xx: Segment retries for hours, so events sent before the
		// admin saves the secret arrive once it is saved.
		d.outcome = status.OutcomeNoSecret
		return apperr.TryLater("no shared secret is configured for this workspace yet: paste it in /dashboard/settings", noSecretRetryAfter)
	}
	keys := make([][]byte, len(secrets))
	for i, sec := range secrets {
		keys[i] = []byte(sec.Secret)
	}
	signed, which, err := segment.AuthenticateWhich(keys, body, req.Header.Get("X-Signature"))
	if err != nil {
		d.outcome = status.OutcomeBadSignature
		return fmt.Errorf("workspace %s: %w", ws.ID, err)
	}
	d.credential = secrets[which].Label
	firstOnly := signed == segment.SignedFirstElement
	if firstOnly && !ws.FirstElementSignatures {
		// Only element 0 is authenticated: anyone holding one signed event
		// could append events of their own. Refused unless the admin chose
		// to accept that risk for this workspace.
		d.outcome = status.OutcomeBadSignature
		return apperr.New(apperr.Unauthorized, FirstElementRefusal)
	}
	// Admission: past the in-flight budget the answer is an immediate 503,
	// not a body parsed only to time out in the queue while every other
	// request slows down with it. It comes after the body is in and signed,
	// so neither a slow sender nor one without the secret can hold budget.
	release, err := h.Ingester.Admit(int64(len(body)))
	if err != nil {
		return err
	}
	defer release()
	releaseRead() // the in-flight budget holds the body from here on
	events, err := segment.Parse(body)
	if err != nil {
		d.outcome = status.OutcomeBadBody
		return err
	}
	// Signed events are trusted, the elements after a first-element
	// signature too: they are stored only along with a signed element 0
	// never seen before, so nobody without the secret can add any.
	rows := ingest.Rows(ws.ID, status.SourceWebhook, "", true, d.start, events)
	rows, deletes, dropped := takeDeletes(ws, rows, firstOnly)
	if dropped > 0 {
		reqlog.From(req.Context()).Warn("events after an element-0-signed delete call, or delete calls not in element 0, dropped", "workspace", ws.ID, "dropped", dropped)
	}
	if firstOnly {
		limit := h.FirstElementMaxEvents
		if limit <= 0 {
			limit = 1000 // FIRST_ELEMENT_MAX_EVENTS' default
		}
		if len(events) > limit {
			d.outcome = status.OutcomeTooLarge
			return apperr.Errorf(apperr.TooLarge, "%d events in an array signed over element 0 only; the limit is %d (FIRST_ELEMENT_MAX_EVENTS): lower the batch size in Segment", len(events), limit)
		}
		// Stored only while element 0 is new: a captured signed event cannot
		// carry new events once it is in (an exact retry is all duplicates).
		d.res, err = h.Ingester.SubmitFirstNew(req.Context(), rows)
	} else {
		d.res, err = h.Ingester.Submit(req.Context(), rows)
	}
	if err != nil {
		if errors.Is(err, ingest.ErrFirstElementStored) {
			d.outcome = status.OutcomeBadSignature
		}
		return err
	}
	d.outcome = outcomeOf(d.res)
	if d.erased, err = h.erase(req.Context(), ws.ID, deletes); err != nil {
		d.outcome = status.OutcomeUnavailable
		return err
	}
	if d.erased > 0 && d.res.Accepted == 0 {
		d.outcome = status.OutcomeErased
	}
	return nil
}

// FirstElementRefusal is the answer, and the delivery log's reason, for an
// element-0-signed array sent to a workspace that does not accept them. It
// names the setting on the settings page.
const FirstElementRefusal = `this array's X-Signature covers only its first event (Segment's Webhooks (Actions) batching), and this workspace does not accept that: turn on "Accept batches signed over their first event only" in /dashboard/settings#segment-source, or send the classic Webhooks destination's whole-body signature`

// workspace finds the workspace a request names by ?workspaceId= or the
// df-workspace-id header (Dittofeed's names, so existing Segment setups
// keep working), or the default one.
func (h *Handler) workspace(c echo.Context) (store.Workspace, error) {
	q := strings.TrimSpace(c.QueryParam("workspaceId"))
	hdr := strings.TrimSpace(c.Request().Header.Get("df-workspace-id"))
	ctx := c.Request().Context() // the cache bounds its own lookups
	var id uuid.UUID
	switch {
	case q == "" && hdr == "":
		def, err := h.Workspaces.DefaultID(ctx)
		if err != nil {
			return store.Workspace{}, fmt.Errorf("default workspace: %w", err)
		}
		id = def
	default:
		raw := q
		if raw == "" {
			raw = hdr
		}
		if q != "" && hdr != "" && !strings.EqualFold(q, hdr) {
			return store.Workspace{}, apperr.New(apperr.Invalid, "workspaceId query parameter and df-workspace-id header name different workspaces")
		}
		parsed, err := uuid.Parse(raw)
		if err != nil {
			return store.Workspace{}, apperr.New(apperr.Invalid, "workspaceId is not a valid workspace id (expected a UUID)")
		}
		id = parsed
	}
	ws, err := h.Workspaces.Workspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Workspace{}, &apperr.Error{Code: apperr.NotFound, Msg: "no workspace with id " + id.String(), Err: err}
	}
	if err != nil {
		return store.Workspace{}, fmt.Errorf("workspace %s: %w", id, err)
	}
	return ws, nil
}

// okBody is the 200 answer, written by hand: it is sent for every stored
// delivery, and reflection-based JSON of a map costs more than the rest of
// the response.
func okBody(res ingest.Result, erased int) []byte {
	b := make([]byte, 0, 64)
	b = append(b, `{"ok":true,"accepted":`...)
	b = strconv.AppendInt(b, int64(res.Accepted), 10)
	b = append(b, `,"duplicates":`...)
	b = strconv.AppendInt(b, int64(res.Duplicates), 10)
	b = append(b, `,"suppressed":`...)
	b = strconv.AppendInt(b, int64(res.Suppressed), 10)
	if erased > 0 {
		b = append(b, `,"erased":`...)
		b = strconv.AppendInt(b, int64(erased), 10)
	}
	return append(b, '}')
}

// outcomeOf names a stored request's outcome: accepted when anything was
// stored, suppressed when the events not stored include ones of erased
// (suppressed) ids, duplicate otherwise.
func outcomeOf(res ingest.Result) string {
	switch {
	case res.Accepted > 0:
		return status.OutcomeAccepted
	case res.Suppressed > 0:
		return status.OutcomeSuppressed
	}
	return status.OutcomeDuplicate
}

// record notes the delivery for the workspace's connection status (once
// the workspace is known) and logs its one line. It runs just before the
// answer is written: the status is the one being sent and, for a refusal,
// the reason is the message the error mapping chose.
func (h *Handler) record(c echo.Context, d *delivery) {
	code := c.Response().Status
	reply, refused := apperr.ReplyOf(c)
	if d.ws != uuid.Nil {
		h.Attempts.Record(status.Attempt{At: d.start, WorkspaceID: d.ws, Source: status.SourceWebhook, Outcome: d.outcome,
			Reason: reply.Message, Status: code, Accepted: d.res.Accepted, Duplicates: d.res.Duplicates, Suppressed: d.res.Suppressed, Credential: d.credential})
	}
	level := slog.LevelInfo
	if refused {
		level = slog.LevelWarn
	}
	ctx := c.Request().Context()
	log := reqlog.From(ctx)
	// Building the attributes is most of a line's cost; skip it when the
	// line would be dropped (LOG_LEVEL=warn).
	if !log.Enabled(ctx, level) {
		return
	}
	attrs := []any{"workspace", d.ws, "outcome", d.outcome, "events", d.res.Accepted + d.res.Duplicates + d.res.Suppressed,
		"ms", time.Since(d.start).Milliseconds(), "ip", c.RealIP()}
	if refused {
		attrs = append(attrs, "status", code, "reason", reply.Message)
	}
	log.Log(ctx, level, "webhook", attrs...)
}
