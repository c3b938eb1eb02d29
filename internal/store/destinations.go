package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Destination is an HTTP endpoint a workspace's events are forwarded to.
type Destination struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	Name        string
	URL         string
	Types       []string // event types it wants; empty means every type
	// Secret is the current whsec_… signing secret; PreviousSecret still
	// signs too until PreviousExpiresAt, so receivers can switch over.
	Secret            string
	PreviousSecret    string
	PreviousExpiresAt *time.Time
	Paused            bool
	PausedReason      string
	Cursor            FeedCursor // the feed position every event before which is handled
	Delivered         int64      // events delivered (2xx), all time
	Failed            int64      // events given up on, all time
	CreatedAt         time.Time
	Circuit           Circuit // open while the receiver is down (set by the worker)
	// ErasureNotice: after each erasure the destination gets a signed
	// {"type":"erasure",…} notice, so its owner's services forget the person.
	ErasureNotice bool
	// SkipAudienceEvents keeps the Audience Entered/Exited events that
	// audiences emit (source "audiences") from this destination.
	SkipAudienceEvents bool
}

// WantsEvent reports whether the destination takes an event of type typ
// from source.
func (d Destination) WantsEvent(typ, source string) bool {
	if d.SkipAudienceEvents && source == "audiences" {
		return false
	}
	return d.Wants(typ)
}

// Wants reports whether the destination takes events of type typ.
func (d Destination) Wants(typ string) bool {
	if len(d.Types) == 0 {
		return true
	}
	for _, t := range d.Types {
		if t == typ {
			return true
		}
	}
	return false
}

// SigningSecrets are the secrets that sign a delivery at now: the current one
// and, during a rotation's overlap, the previous one.
func (d Destination) SigningSecrets(now time.Time) []string {
	out := []string{d.Secret}
	if d.PreviousSecret != "" && d.PreviousExpiresAt != nil && now.Before(*d.PreviousExpiresAt) {
		out = append(out, d.PreviousSecret)
	}
	return out
}

// NewDestination is what CreateDestination needs; the caller makes the secret.
type NewDestination struct {
	WorkspaceID uuid.UUID
	Name        string
	URL         string
	Types       []string
	Secret      string
	// ErasureNotice opts in to erasure notices.
	ErasureNotice bool
}

const destinationColumns = "id, workspace_id, name, url, event_types, secret, previous_secret, previous_secret_expires_at," +
	" paused, paused_reason, cursor_tx, cursor_id, delivered_count, failed_count, created_at," +
	" circuit_open_since, circuit_next_probe, circuit_probes, circuit_reason, erasure_notice, skip_audience_events"

// CreateDestination stores a destination whose feed position is the feed's
// head now, so it receives every event committed from now on.
func (s *Store) CreateDestination(ctx context.Context, nd NewDestination) (Destination, error) {
	head, err := s.FeedHead(ctx, nd.WorkspaceID)
	if err != nil {
		return Destination{}, fmt.Errorf("create destination: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	d := Destination{
		ID: uuid.New(), WorkspaceID: nd.WorkspaceID, Name: nd.Name, URL: nd.URL, Types: nd.Types,
		Secret: nd.Secret, Cursor: head, CreatedAt: now, ErasureNotice: nd.ErasureNotice,
	}
	_, err = exec(s.db.WithContext(ctx), (`INSERT INTO destinations (id, workspace_id, name, url, event_types, secret,
		cursor_tx, cursor_id, created_at, updated_at, erasure_notice) VALUES (?,?,?,?,?,?,?,?,?,?,?)`),
		d.ID.String(), d.WorkspaceID.String(), d.Name, d.URL, strings.Join(d.Types, ","), s.sealSecret(d.Secret),
		head.Tx, head.ID, at(now), at(now), d.ErasureNotice)
	if err != nil {
		if IsDataError(err) {
			return Destination{}, fmt.Errorf("create destination for workspace %s: %w", nd.WorkspaceID, ErrNotFound)
		}
		return Destination{}, fmt.Errorf("create destination: %w", err)
	}
	return d, nil
}

// Destinations lists a workspace's destinations, oldest first.
func (s *Store) Destinations(ctx context.Context, ws uuid.UUID) ([]Destination, error) {
	return s.queryDestinations(ctx, "WHERE workspace_id = ? ORDER BY created_at, id", ws.String())
}

// ActiveDestinations lists every destination of every workspace that is not
// paused: the delivery workers' to-do list.
func (s *Store) ActiveDestinations(ctx context.Context) ([]Destination, error) {
	return s.queryDestinations(ctx, "WHERE NOT paused ORDER BY created_at, id")
}

// Destination returns one destination of workspace ws.
func (s *Store) Destination(ctx context.Context, ws, id uuid.UUID) (Destination, error) {
	ds, err := s.queryDestinations(ctx, "WHERE workspace_id = ? AND id = ?", ws.String(), id.String())
	if err != nil {
		return Destination{}, err
	}
	if len(ds) == 0 {
		return Destination{}, ErrNotFound
	}
	return ds[0], nil
}

// DestinationByID returns a destination whatever its workspace (workers).
func (s *Store) DestinationByID(ctx context.Context, id uuid.UUID) (Destination, error) {
	ds, err := s.queryDestinations(ctx, "WHERE id = ?", id.String())
	if err != nil {
		return Destination{}, err
	}
	if len(ds) == 0 {
		return Destination{}, ErrNotFound
	}
	return ds[0], nil
}

// destinationRow is a destinations row as destinationColumns reads it.
type destinationRow struct {
	ID, WorkspaceID, Name, URL, EventTypes, Secret, PreviousSecret string
	PreviousSecretExpiresAt                                        dbTime
	Paused                                                         bool
	PausedReason                                                   string
	CursorTx, CursorID, DeliveredCount, FailedCount                int64
	CreatedAt                                                      dbTime
	CircuitOpenSince, CircuitNextProbe                             dbTime
	CircuitProbes                                                  int
	CircuitReason                                                  string
	ErasureNotice                                                  bool
	SkipAudienceEvents                                             bool
}

func (s *Store) queryDestinations(ctx context.Context, where string, args ...any) ([]Destination, error) {
	var rows []destinationRow
	if err := all(s.db.WithContext(ctx), &rows, "SELECT "+destinationColumns+" FROM destinations "+where, args...); err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	var out []Destination
	for _, r := range rows {
		d, err := s.destination(r)
		if err != nil {
			return nil, fmt.Errorf("list destinations: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Store) destination(r destinationRow) (Destination, error) {
	d := Destination{Name: r.Name, URL: r.URL, Paused: r.Paused, PausedReason: r.PausedReason,
		Cursor: FeedCursor{Tx: r.CursorTx, ID: r.CursorID}, Delivered: r.DeliveredCount, Failed: r.FailedCount,
		PreviousExpiresAt: r.PreviousSecretExpiresAt.ptr(), CreatedAt: r.CreatedAt.Time, ErasureNotice: r.ErasureNotice,
		Circuit: Circuit{OpenSince: r.CircuitOpenSince.ptr(), NextProbe: r.CircuitNextProbe.ptr(), Probes: r.CircuitProbes,
			Reason: r.CircuitReason}, SkipAudienceEvents: r.SkipAudienceEvents}
	var err error
	if d.ID, err = uuid.Parse(r.ID); err != nil {
		return d, fmt.Errorf("destination id %q: %w", r.ID, err)
	}
	if d.WorkspaceID, err = uuid.Parse(r.WorkspaceID); err != nil {
		return d, fmt.Errorf("destination %s workspace %q: %w", r.ID, r.WorkspaceID, err)
	}
	if r.EventTypes != "" {
		d.Types = strings.Split(r.EventTypes, ",")
	}
	if d.Secret, err = s.openSecret(r.Secret); err != nil {
		return d, fmt.Errorf("destination %s secret: %w", r.ID, err)
	}
	if d.PreviousSecret, err = s.openSecret(r.PreviousSecret); err != nil {
		return d, fmt.Errorf("destination %s previous secret: %w", r.ID, err)
	}
	return d, nil
}

// SetDestinationPaused pauses (with a reason shown on its page) or resumes a
// destination. A resumed destination carries on from its cursor.
func (s *Store) SetDestinationPaused(ctx context.Context, ws, id uuid.UUID, paused bool, reason string) error {
	if !paused {
		reason = ""
	}
	n, err := exec(s.db.WithContext(ctx), ("UPDATE destinations SET paused = ?, paused_reason = ?, updated_at = ? WHERE workspace_id = ? AND id = ?"),
		paused, truncateUTF8(reason, maxReasonBytes), at(time.Now()), ws.String(), id.String())
	return oneRow(n, err, "pause destination "+id.String())
}

// SetDestinationAudienceEvents turns the audience transition events on or
// off for a destination, from the next event its worker reads.
func (s *Store) SetDestinationAudienceEvents(ctx context.Context, ws, id uuid.UUID, skip bool) error {
	n, err := exec(s.db.WithContext(ctx), "UPDATE destinations SET skip_audience_events = ?, updated_at = ? WHERE workspace_id = ? AND id = ?",
		skip, at(time.Now()), ws.String(), id.String())
	return oneRow(n, err, "audience events of destination "+id.String())
}

// SetDestinationErasureNotice turns erasure notices on or off for one
// destination.
func (s *Store) SetDestinationErasureNotice(ctx context.Context, ws, id uuid.UUID, on bool) error {
	n, err := exec(s.db.WithContext(ctx), "UPDATE destinations SET erasure_notice = ?, updated_at = ? WHERE workspace_id = ? AND id = ?",
		on, at(time.Now()), ws.String(), id.String())
	return oneRow(n, err, "set erasure notice of destination "+id.String())
}

// ErasureNoticeDestinations lists the active destinations of ws that asked
// for erasure notices.
func (s *Store) ErasureNoticeDestinations(ctx context.Context, ws uuid.UUID) ([]Destination, error) {
	return s.queryDestinations(ctx, "WHERE workspace_id = ? AND erasure_notice AND NOT paused ORDER BY created_at, id", ws.String())
}

// RotateDestinationSecret makes secret the current one; the old one keeps
// signing beside it for grace.
func (s *Store) RotateDestinationSecret(ctx context.Context, ws, id uuid.UUID, secret string, grace time.Duration) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var old string
		err := first(tx, &old, "SELECT secret FROM destinations WHERE workspace_id = ? AND id = ?", ws.String(), id.String())
		if errors.Is(err, ErrNotFound) {
			return err
		}
		if err != nil {
			return fmt.Errorf("rotate secret of destination %s: %w", id, err)
		}
		now := time.Now()
		_, err = exec(tx, (`UPDATE destinations SET secret = ?, previous_secret = ?,
			previous_secret_expires_at = ?, updated_at = ? WHERE id = ?`),
			s.sealSecret(secret), old, at(now.Add(grace)), at(now), id.String())
		if err != nil {
			return fmt.Errorf("rotate secret of destination %s: %w", id, err)
		}
		return nil
	})
}

// DeleteDestination removes a destination with its retries and attempts.
func (s *Store) DeleteDestination(ctx context.Context, ws, id uuid.UUID) error {
	n, err := exec(s.db.WithContext(ctx), ("DELETE FROM destinations WHERE workspace_id = ? AND id = ?"),
		ws.String(), id.String())
	return oneRow(n, err, "delete destination "+id.String())
}

// oneRow turns what exec reports about a statement meant to change one
// row into an error: ErrNotFound when it changed none.
func oneRow(n int64, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
