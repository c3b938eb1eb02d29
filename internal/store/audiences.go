package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// AudienceRow is one stored audience definition (internal/audiences owns
// the JSON in Definition and CurrentDef; the store keeps them opaque).
type AudienceRow struct {
	Key            string
	Name           string
	Definition     []byte // the newest version's
	Version        int
	CurrentVersion int    // the version memberships are answered from; 0 before the first build
	CurrentDef     []byte // that version's definition
	BuildAfter     *string
	BuildDone      int64
	BuildTotal     int64
	LeavesReady    bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Building says whether the newest version is still being built.
func (a AudienceRow) Building() bool { return a.Version != a.CurrentVersion }

type audienceRecord struct {
	Key            string
	Name           string
	Definition     string
	Version        int
	CurrentVersion int
	CurrentDef     string
	BuildAfter     *string
	BuildDone      int64
	BuildTotal     int64
	LeavesReady    bool
	CreatedAt      dbTime
	UpdatedAt      dbTime
}

func (r audienceRecord) row() AudienceRow {
	return AudienceRow{Key: r.Key, Name: r.Name, Definition: []byte(r.Definition), Version: r.Version,
		CurrentVersion: r.CurrentVersion, CurrentDef: []byte(r.CurrentDef), BuildAfter: r.BuildAfter,
		BuildDone: r.BuildDone, BuildTotal: r.BuildTotal, LeavesReady: r.LeavesReady,
		CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

const audienceCols = "key, name, definition, version, current_version, current_def, build_after, build_done, build_total, leaves_ready, created_at, updated_at"

func audiences(db *gorm.DB, ws uuid.UUID, key string) ([]AudienceRow, error) {
	q := "SELECT " + audienceCols + " FROM audiences WHERE workspace_id = ?"
	args := []any{ws.String()}
	if key != "" {
		q += " AND key = ?"
		args = append(args, key)
	}
	var recs []audienceRecord
	if err := db.Raw(q+" ORDER BY key", args...).Scan(&recs).Error; err != nil {
		return nil, fmt.Errorf("read audiences of %s: %w", ws, err)
	}
	out := make([]AudienceRow, len(recs))
	for i, r := range recs {
		out[i] = r.row()
	}
	return out, nil
}

// Audiences lists a workspace's audiences by key.
func (s *Store) Audiences(ctx context.Context, ws uuid.UUID) ([]AudienceRow, error) {
	return audiences(s.db.WithContext(ctx), ws, "")
}

// Audience reads one audience; ErrNotFound when ws has none of that key.
func (s *Store) Audience(ctx context.Context, ws uuid.UUID, key string) (AudienceRow, error) {
	rows, err := audiences(s.db.WithContext(ctx), ws, key)
	if err != nil {
		return AudienceRow{}, err
	}
	if len(rows) == 0 {
		return AudienceRow{}, ErrNotFound
	}
	return rows[0], nil
}

// AudienceTx is one transaction over a workspace's audience tables holding
// its audience lock: the audience_cursors row, FOR UPDATE on PostgreSQL
// (SQLite's single writer does the same). Every membership write happens
// inside one, so the follower, the timers, builds and edits never
// interleave, on one instance or many.
type AudienceTx struct {
	s      *Store
	tx     *gorm.DB
	ws     uuid.UUID
	cursor FeedCursor
}

// AudienceCursor reads where the audience follower of ws is, unlocked.
func (s *Store) AudienceCursor(ctx context.Context, ws uuid.UUID) (FeedCursor, error) {
	var c FeedCursor
	err := first(s.db.WithContext(ctx), &c, "SELECT tx, id FROM audience_cursors WHERE workspace_id = ?", ws.String())
	if errors.Is(err, ErrNotFound) {
		return FeedCursor{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("audience cursor of %s: %w", ws, err)
	}
	return c, nil
}

// WithAudienceLock runs fn in one transaction holding ws's audience lock.
func (s *Store) WithAudienceLock(ctx context.Context, ws uuid.UUID, fn func(*AudienceTx) error) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		a := &AudienceTx{s: s, tx: tx, ws: ws}
		if err := tx.Exec("INSERT INTO audience_cursors (workspace_id, tx, id) VALUES (?, 0, 0) ON CONFLICT (workspace_id) DO NOTHING",
			ws.String()).Error; err != nil {
			return fmt.Errorf("audience cursor of %s: %w", ws, err)
		}
		q := "SELECT tx, id FROM audience_cursors WHERE workspace_id = ?"
		if s.dialect == Postgres {
			q += " FOR UPDATE"
		}
		if err := first(tx, &a.cursor, q, ws.String()); err != nil {
			return fmt.Errorf("lock audience cursor of %s: %w", ws, err)
		}
		return fn(a)
	})
}

// Workspace is the transaction's workspace.
func (a *AudienceTx) Workspace() uuid.UUID { return a.ws }

// Cursor is the follower's position as locked.
func (a *AudienceTx) Cursor() FeedCursor { return a.cursor }

// SetCursor moves the follower to c; it commits with the transaction.
func (a *AudienceTx) SetCursor(c FeedCursor) error {
	if err := a.tx.Exec("UPDATE audience_cursors SET tx = ?, id = ?, updated_at = ? WHERE workspace_id = ?",
		c.Tx, c.ID, at(time.Now()), a.ws.String()).Error; err != nil {
		return fmt.Errorf("move audience cursor of %s: %w", a.ws, err)
	}
	a.cursor = c
	return nil
}

// Audiences lists the workspace's audiences inside the transaction.
func (a *AudienceTx) Audiences() ([]AudienceRow, error) { return audiences(a.tx, a.ws, "") }

// PutAudience inserts or replaces a definition. A new version starts a
// build: the old version (if any) stays current until it ends.
func (a *AudienceTx) PutAudience(r AudienceRow) error {
	now := at(time.Now())
	err := a.tx.Exec(`INSERT INTO audiences (workspace_id, key, name, definition, version, current_version, current_def,
		build_after, build_done, build_total, leaves_ready, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, '', NULL, 0, 0, FALSE, ?, ?)
		ON CONFLICT (workspace_id, key) DO UPDATE SET name = excluded.name, definition = excluded.definition,
		version = excluded.version, build_after = NULL, build_done = 0, build_total = 0, leaves_ready = FALSE,
		updated_at = excluded.updated_at`,
		a.ws.String(), r.Key, r.Name, string(r.Definition), r.Version, now, now).Error
	if err != nil {
		return fmt.Errorf("save audience %q: %w", r.Key, err)
	}
	return nil
}

// DeleteAudience removes an audience with its memberships and history.
func (a *AudienceTx) DeleteAudience(key string) error {
	for _, q := range []string{"DELETE FROM audiences WHERE workspace_id = ? AND key = ?",
		"DELETE FROM audience_members WHERE workspace_id = ? AND audience_key = ?",
		"DELETE FROM audience_history WHERE workspace_id = ? AND audience_key = ?"} {
		if err := a.tx.Exec(q, a.ws.String(), key).Error; err != nil {
			return fmt.Errorf("delete audience %q: %w", key, err)
		}
	}
	return nil
}

// SetBuild records a build's progress.
func (a *AudienceTx) SetBuild(key string, version int, after *string, done, total int64, leavesReady bool) error {
	err := a.tx.Exec(`UPDATE audiences SET build_after = ?, build_done = ?, build_total = ?, leaves_ready = ?
		WHERE workspace_id = ? AND key = ? AND version = ?`, after, done, total, leavesReady, a.ws.String(), key, version).Error
	if err != nil {
		return fmt.Errorf("record build of %q: %w", key, err)
	}
	return nil
}

// SwapAudience makes version current (with its definition) and drops the
// memberships of older versions.
func (a *AudienceTx) SwapAudience(key string, version int, def []byte) error {
	if err := a.tx.Exec(`UPDATE audiences SET current_version = ?, current_def = ?, build_after = NULL
		WHERE workspace_id = ? AND key = ? AND version = ?`, version, string(def), a.ws.String(), key, version).Error; err != nil {
		return fmt.Errorf("swap audience %q to version %d: %w", key, version, err)
	}
	if err := a.tx.Exec("DELETE FROM audience_members WHERE workspace_id = ? AND audience_key = ? AND version <> ?",
		a.ws.String(), key, version).Error; err != nil {
		return fmt.Errorf("drop old memberships of %q: %w", key, err)
	}
	return nil
}

// ProfileKeysAfter pages through the workspace's profiles by key.
func (a *AudienceTx) ProfileKeysAfter(after string, limit int) ([]string, error) {
	var keys []string
	err := a.tx.Raw("SELECT profile_key FROM profiles WHERE workspace_id = ? AND profile_key > ? ORDER BY profile_key LIMIT ?",
		a.ws.String(), after, limit).Scan(&keys).Error
	if err != nil {
		return nil, fmt.Errorf("page profiles of %s: %w", a.ws, err)
	}
	return keys, nil
}

// CountProfiles counts the workspace's profiles (a build's total).
func (a *AudienceTx) CountProfiles() (int64, error) {
	var n int64
	if err := a.tx.Raw("SELECT count(*) FROM profiles WHERE workspace_id = ?", a.ws.String()).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("count profiles of %s: %w", a.ws, err)
	}
	return n, nil
}

// Profiles reads profiles by key inside the transaction.
func (a *AudienceTx) Profiles(keys []string) (map[string]ProfileRow, error) {
	p := &ProfileTx{s: a.s, tx: a.tx, ws: a.ws}
	return p.Profiles(keys)
}

// IdentityProfiles maps identities of one kind to their profiles.
func (a *AudienceTx) IdentityProfiles(kind string, values []string) (map[string]string, error) {
	out := map[string]string{}
	err := chunks(dedupeStrings(values), func(part []string) error {
		var rows []struct{ Value, ProfileKey string }
		if err := a.tx.Raw("SELECT value, profile_key FROM profile_identities WHERE workspace_id = ? AND kind = ? AND value IN ("+
			placeholders(len(part))+")", strArgs([]any{a.ws.String(), kind}, part)...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read %s identities: %w", kind, err)
		}
		for _, r := range rows {
			out[r.Value] = r.ProfileKey
		}
		return nil
	})
	return out, err
}

// InsertEvents stores events inside the audience transaction (transitions):
// they commit with the memberships that caused them. Duplicates of stored
// events are skipped, so a redo is harmless.
func (a *AudienceTx) InsertEvents(events []NewEvent) error {
	return insertChunks(a.tx, events, map[eventKey]bool{})
}

// SetTimers schedules timers that commit with the transaction.
func (a *AudienceTx) SetTimers(kind string, sets []TimerSet) error {
	return setTimers(a.tx, kind, a.ws, sets)
}

func dedupeStrings(vs []string) []string {
	seen := make(map[string]bool, len(vs))
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
