package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// JourneyRow is a stored journey: its current definition and version.
type JourneyRow struct {
	Key        string
	Version    int
	Definition string
	Enabled    bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type journeyRecord struct {
	Key        string
	Version    int
	Definition string
	Enabled    bool
	CreatedAt  dbTime
	UpdatedAt  dbTime
}

func (r journeyRecord) row() JourneyRow {
	return JourneyRow{Key: r.Key, Version: r.Version, Definition: r.Definition, Enabled: r.Enabled,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

const journeyColumns = "key, version, definition, enabled, created_at, updated_at"

// Journeys lists the workspace's journeys by key.
func (s *Store) Journeys(ctx context.Context, ws uuid.UUID) ([]JourneyRow, error) {
	var rows []journeyRecord
	if err := all(s.db.WithContext(ctx), &rows, "SELECT "+journeyColumns+" FROM journeys WHERE workspace_id = ? ORDER BY key", ws.String()); err != nil {
		return nil, fmt.Errorf("list journeys of %s: %w", ws, err)
	}
	out := make([]JourneyRow, len(rows))
	for i, r := range rows {
		out[i] = r.row()
	}
	return out, nil
}

// Journey reads one journey; ErrNotFound when there is none.
func (s *Store) Journey(ctx context.Context, ws uuid.UUID, key string) (JourneyRow, error) {
	var r journeyRecord
	err := first(s.db.WithContext(ctx), &r, "SELECT "+journeyColumns+" FROM journeys WHERE workspace_id = ? AND key = ?", ws.String(), key)
	if errors.Is(err, ErrNotFound) {
		return JourneyRow{}, ErrNotFound
	}
	if err != nil {
		return JourneyRow{}, fmt.Errorf("read journey %q of %s: %w", key, ws, err)
	}
	return r.row(), nil
}

// JourneyVersion reads the definition a running instance follows.
func (s *Store) JourneyVersion(ctx context.Context, ws uuid.UUID, key string, version int) (string, error) {
	var def string
	err := first(s.db.WithContext(ctx), &def, "SELECT definition FROM journey_versions WHERE workspace_id = ? AND key = ? AND version = ?",
		ws.String(), key, version)
	if err != nil {
		return "", fmt.Errorf("journey %q version %d: %w", key, version, err)
	}
	return def, nil
}

// CreateJourney stores version 1; ErrConflict when the key is taken.
func (s *Store) CreateJourney(ctx context.Context, ws uuid.UUID, key, def string, enabled bool) (JourneyRow, error) {
	now := at(time.Now())
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if _, err := exec(tx, "INSERT INTO journeys (workspace_id, key, version, definition, enabled, created_at, updated_at) VALUES (?,?,1,?,?,?,?)",
			ws.String(), key, def, enabled, now, now); err != nil {
			return err
		}
		_, err := exec(tx, "INSERT INTO journey_versions (workspace_id, key, version, definition) VALUES (?,?,1,?)", ws.String(), key, def)
		return err
	})
	if err != nil && isUniqueViolation(err) {
		return JourneyRow{}, ErrConflict
	}
	if err != nil {
		return JourneyRow{}, fmt.Errorf("create journey %q of %s: %w", key, ws, err)
	}
	return s.Journey(ctx, ws, key)
}

// UpdateJourney stores a new version (new instances follow it; running
// ones finish on theirs) and the enabled state.
func (s *Store) UpdateJourney(ctx context.Context, ws uuid.UUID, key, def string, enabled bool) (JourneyRow, error) {
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cur journeyRecord
		if err := first(tx, &cur, "SELECT "+journeyColumns+" FROM journeys WHERE workspace_id = ? AND key = ?", ws.String(), key); err != nil {
			return err
		}
		version := cur.Version
		if cur.Definition != def {
			version++
			if _, err := exec(tx, "INSERT INTO journey_versions (workspace_id, key, version, definition) VALUES (?,?,?,?)",
				ws.String(), key, version, def); err != nil {
				return err
			}
		}
		_, err := exec(tx, "UPDATE journeys SET version = ?, definition = ?, enabled = ?, updated_at = ? WHERE workspace_id = ? AND key = ?",
			version, def, enabled, at(time.Now()), ws.String(), key)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return JourneyRow{}, ErrNotFound
	}
	if err != nil {
		return JourneyRow{}, fmt.Errorf("update journey %q of %s: %w", key, ws, err)
	}
	return s.Journey(ctx, ws, key)
}

// DeleteJourney removes a journey; its instances end (exited) and its
// queued sends are skipped.
func (s *Store) DeleteJourney(ctx context.Context, ws uuid.UUID, key string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		n, err := exec(tx, "DELETE FROM journeys WHERE workspace_id = ? AND key = ?", ws.String(), key)
		if err != nil {
			return fmt.Errorf("delete journey %q: %w", key, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if _, err := exec(tx, "UPDATE journey_instances SET status = 'exited', wake_at = NULL, held_due = NULL, updated_at = ? "+
			"WHERE workspace_id = ? AND journey_key = ? AND status = 'active'", at(time.Now()), ws.String(), key); err != nil {
			return fmt.Errorf("end instances of journey %q: %w", key, err)
		}
		if _, err = exec(tx, "UPDATE journey_webhooks SET status = 'failed', reply = 'journey deleted', at = ? "+
			"WHERE workspace_id = ? AND journey_key = ? AND status = 'queued'", at(time.Now()), ws.String(), key); err != nil {
			return fmt.Errorf("drop webhooks of journey %q: %w", key, err)
		}
		if _, err = exec(tx, "DELETE FROM journey_broadcasts WHERE workspace_id = ? AND journey_key = ?", ws.String(), key); err != nil {
			return fmt.Errorf("drop broadcast of journey %q: %w", key, err)
		}
		_, err = exec(tx, "UPDATE messages SET status = 'skipped', reason = 'journey_deleted', at = ? "+
			"WHERE workspace_id = ? AND journey_key = ? AND status = 'queued'", at(time.Now()), ws.String(), key)
		return err
	})
}

// WorkspacesWithJourneys lists the workspaces the follower reads: those
// with a journey, enabled or not (events that come while a journey is
// disabled are read past, so enabling it does not enter them late).
func (s *Store) WorkspacesWithJourneys(ctx context.Context) ([]uuid.UUID, error) {
	var ids []string
	if err := all(s.db.WithContext(ctx), &ids, "SELECT DISTINCT workspace_id FROM journeys"); err != nil {
		return nil, fmt.Errorf("workspaces with journeys: %w", err)
	}
	out := make([]uuid.UUID, 0, len(ids))
	for _, id := range ids {
		if u, err := uuid.Parse(id); err == nil {
			out = append(out, u)
		}
	}
	return out, nil
}

// JourneyCursor is where the workspace's journey follower is; ok false
// when it has none yet.
func (s *Store) JourneyCursor(ctx context.Context, ws uuid.UUID) (c FeedCursor, ok bool, err error) {
	var r struct {
		CursorTx int64
		CursorID int64
	}
	err = first(s.db.WithContext(ctx), &r, "SELECT cursor_tx, cursor_id FROM journey_cursors WHERE workspace_id = ?", ws.String())
	if errors.Is(err, ErrNotFound) {
		return FeedCursor{}, false, nil
	}
	if err != nil {
		return FeedCursor{}, false, fmt.Errorf("journey cursor of %s: %w", ws, err)
	}
	return FeedCursor{Tx: r.CursorTx, ID: r.CursorID}, true, nil
}
