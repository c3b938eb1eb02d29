package store

import (
	"context"
	"database/sql"
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
	// ErasureNotice: after each erasure the destination gets a signed
	// {"type":"erasure",…} notice, so its owner's services forget the person.
	ErasureNotice bool
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
	" paused, paused_reason, cursor_tx, cursor_id, delivered_count, failed_count, created_at, erasure_notice"

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
	_, err = s.exec(ctx, (`INSERT INTO destinations (id, workspace_id, name, url, event_types, secret,
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

func (s *Store) queryDestinations(ctx context.Context, where string, args ...any) ([]Destination, error) {
	rows, err := s.query(ctx, ("SELECT " + destinationColumns + " FROM destinations " + where), args...)
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	var out []Destination
	err = eachRow(rows, func() error {
		var d Destination
		var id, ws, types, secret, prev string
		var prevExp dbTime
		var created dbTime
		if err := rows.Scan(&id, &ws, &d.Name, &d.URL, &types, &secret, &prev, &prevExp, &d.Paused, &d.PausedReason,
			&d.Cursor.Tx, &d.Cursor.ID, &d.Delivered, &d.Failed, &created, &d.ErasureNotice); err != nil {
			return err
		}
		var err error
		if d.ID, err = uuid.Parse(id); err != nil {
			return fmt.Errorf("destination id %q: %w", id, err)
		}
		if d.WorkspaceID, err = uuid.Parse(ws); err != nil {
			return fmt.Errorf("destination %s workspace %q: %w", id, ws, err)
		}
		if types != "" {
			d.Types = strings.Split(types, ",")
		}
		if d.Secret, err = s.openSecret(secret); err != nil {
			return fmt.Errorf("destination %s secret: %w", id, err)
		}
		if d.PreviousSecret, err = s.openSecret(prev); err != nil {
			return fmt.Errorf("destination %s previous secret: %w", id, err)
		}
		d.PreviousExpiresAt = prevExp.ptr()
		d.CreatedAt = created.Time
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	return out, nil
}

// SetDestinationPaused pauses (with a reason shown on its page) or resumes a
// destination. A resumed destination carries on from its cursor.
func (s *Store) SetDestinationPaused(ctx context.Context, ws, id uuid.UUID, paused bool, reason string) error {
	if !paused {
		reason = ""
	}
	res, err := s.exec(ctx, ("UPDATE destinations SET paused = ?, paused_reason = ?, updated_at = ? WHERE workspace_id = ? AND id = ?"),
		paused, truncateUTF8(reason, maxReasonBytes), at(time.Now()), ws.String(), id.String())
	return oneRow(res, err, "pause destination "+id.String())
}

// SetDestinationErasureNotice turns erasure notices on or off for one
// destination.
func (s *Store) SetDestinationErasureNotice(ctx context.Context, ws, id uuid.UUID, on bool) error {
	res, err := s.exec(ctx, "UPDATE destinations SET erasure_notice = ?, updated_at = ? WHERE workspace_id = ? AND id = ?",
		on, at(time.Now()), ws.String(), id.String())
	return oneRow(res, err, "set erasure notice of destination "+id.String())
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
		err := tx.Raw(("SELECT secret FROM destinations WHERE workspace_id = ? AND id = ?"),
			ws.String(), id.String()).Row().Scan(&old)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("rotate secret of destination %s: %w", id, err)
		}
		now := time.Now()
		_, err = txExec(tx, (`UPDATE destinations SET secret = ?, previous_secret = ?,
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
	res, err := s.exec(ctx, ("DELETE FROM destinations WHERE workspace_id = ? AND id = ?"),
		ws.String(), id.String())
	return oneRow(res, err, "delete destination "+id.String())
}

func oneRow(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}
