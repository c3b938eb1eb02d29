package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/status"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// outcomeLabels names outcomes for people; badge classes colour them: green
// stored, plain duplicate, amber "fix on our side or wait", red refused.
var outcomeLabels = map[string]struct{ label, badge string }{
	status.OutcomeAccepted:     {"Accepted", "badge-ok"},
	status.OutcomeDuplicate:    {"Duplicate", ""},
	status.OutcomeSuppressed:   {"Suppressed", ""},
	status.OutcomeErased:       {"Erased (Segment deletion)", ""},
	status.OutcomeBadSignature: {"Bad signature", "badge-err"},
	status.OutcomeNoSecret:     {"No secret", "badge-warn"},
	status.OutcomeBadBody:      {"Bad body", "badge-err"},
	status.OutcomeTooLarge:     {"Too large", "badge-err"},
	status.OutcomeUnavailable:  {"Unavailable", "badge-warn"},
	status.OutcomeBadKey:       {"Bad key", "badge-err"},
}

func outcomeLabel(outcome string) (label, badge string) {
	if l, ok := outcomeLabels[outcome]; ok {
		return l.label, l.badge
	}
	return "Other", "badge-err"
}

// connectionStatus is the settings page's view of a workspace's deliveries.
// It reads memory only, so the settings page costs no query for it.
func (h *Handler) connectionStatus(_ context.Context, ws uuid.UUID) templates.ConnectionStatusProps {
	now := time.Now()
	snap := h.Status.Snapshot(ws)
	p := templates.ConnectionStatusProps{
		WorkspaceID:  ws.String(),
		LastAccepted: snap.LastAccepted,
		Requests:     snap.Hour.Requests,
		Accepted:     snap.Hour.Accepted,
		Duplicates:   snap.Hour.Duplicates,
		Suppressed:   snap.Hour.Suppressed,
		Refused:      snap.Hour.Refused,
	}
	if !snap.LastAccepted.IsZero() {
		p.LastAcceptedAgo = ago(now, snap.LastAccepted)
	}
	for _, r := range snap.RefusedBy {
		label, _ := outcomeLabel(r.Outcome)
		p.RefusedBy = append(p.RefusedBy, templates.StatusOutcomeCount{Outcome: r.Outcome, Label: strings.ToLower(label), Requests: r.Requests})
	}
	for _, m := range snap.Minutes {
		p.Minutes = append(p.Minutes, templates.StatusMinute{Start: m.Minute, Accepted: m.Accepted, Duplicates: m.Duplicates, Refused: m.Refused})
	}
	for _, a := range snap.Recent {
		label, badge := outcomeLabel(a.Outcome)
		p.Attempts = append(p.Attempts, templates.StatusAttempt{At: a.At, Outcome: a.Outcome, Label: label, BadgeClass: badge,
			Status: a.Status, Accepted: a.Accepted, Duplicates: a.Duplicates, Suppressed: a.Suppressed, Source: sourceLabel(a.Source, ""),
			Credential: a.Credential, Reason: a.Reason})
	}
	return p
}

// ago says how long ago t was, in the largest whole unit.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, one)
	}
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return unit(int64(d/time.Second), "second")
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return unit(int64(d/time.Hour), "hour")
	}
	return unit(int64(d/(24*time.Hour)), "day")
}

// StatusJSON is GET /dashboard/status.json?ws=<id>, for pages that refresh
// the connection status in place.
func (h *Handler) StatusJSON(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	var id uuid.UUID
	if raw := strings.TrimSpace(c.QueryParam("ws")); raw != "" {
		// An explicit workspace that does not exist is an error, never
		// silently another workspace's status.
		ws, ok, err := h.workspaceByRawID(c.Request().Context(), raw)
		if err != nil {
			return fmt.Errorf("status workspace: %w", err)
		}
		if !ok {
			return apperr.New(apperr.NotFound, "no workspace with id "+raw)
		}
		id = ws.ID
	} else {
		ws, err := h.currentWorkspace(c)
		if err != nil {
			return fmt.Errorf("status workspace: %w", err)
		}
		id = ws.ID
	}
	snap := h.Status.Snapshot(id)
	out := statusReply{WorkspaceID: id.String(), Now: time.Now().UTC(), LastHour: snap.Hour,
		RefusedBy: snap.RefusedBy, PerMinute: snap.Minutes, Recent: snap.Recent}
	if !snap.LastAccepted.IsZero() {
		out.LastAcceptedAt = &snap.LastAccepted
	}
	// Empty lists, not null, so a script can iterate without checks.
	if out.Recent == nil {
		out.Recent = []status.Attempt{}
	}
	if out.RefusedBy == nil {
		out.RefusedBy = []status.OutcomeCount{}
	}
	return c.JSON(http.StatusOK, out)
}

type statusReply struct {
	WorkspaceID    string                `json:"workspaceId"`
	Now            time.Time             `json:"now"`
	LastAcceptedAt *time.Time            `json:"lastAcceptedAt"` // null: no event accepted yet
	LastHour       status.HourCounts     `json:"lastHour"`
	RefusedBy      []status.OutcomeCount `json:"refusedBy"`
	PerMinute      []status.MinutePoint  `json:"perMinute"` // oldest first
	Recent         []status.Attempt      `json:"recent"`    // newest first
}
