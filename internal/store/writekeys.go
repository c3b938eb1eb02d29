package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// WriteKey authenticates the HTTP Tracking API for one workspace. The key
// itself is shown once, when created; the store keeps only its SHA-256.
type WriteKey struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	Name        string
	Prefix      string // the key's first WriteKeyPrefixLen characters, for display
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

// Active reports whether the key still authenticates.
func (k WriteKey) Active() bool { return k.RevokedAt == nil }

// WriteKeyPrefixLen is how much of a key the dashboard may show.
const WriteKeyPrefixLen = 6

// MaxWriteKeyName bounds a key's label, in characters.
const MaxWriteKeyName = 100

// HashWriteKey is the lookup form of a key: hex SHA-256. A key carries 130
// random bits, so a plain (unsalted, fast) hash is enough to make the table
// useless to a reader while keeping the lookup one index probe.
func HashWriteKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CreateWriteKey makes a new key for a workspace and returns it with its
// plaintext, which is never stored and cannot be read back later.
func (s *Store) CreateWriteKey(ctx context.Context, ws uuid.UUID, name string) (WriteKey, string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxWriteKeyName {
		return WriteKey{}, "", fmt.Errorf("write key name is longer than %d characters", MaxWriteKeyName)
	}
	// rand.Text is 26 base32 characters (130 bits), safe in URLs, headers and shells.
	key := rand.Text()
	k := WriteKey{
		ID: uuid.New(), WorkspaceID: ws, Name: name, Prefix: key[:WriteKeyPrefixLen],
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	_, err := s.sql.ExecContext(ctx, s.rebind(
		"INSERT INTO write_keys (id, workspace_id, name, key_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
		k.ID.String(), ws.String(), k.Name, HashWriteKey(key), k.Prefix, s.timeArg(k.CreatedAt))
	if err != nil {
		if IsDataError(err) {
			// The only constraints are the workspace reference and the
			// (astronomically unlikely) hash collision.
			return WriteKey{}, "", fmt.Errorf("create write key for workspace %s: %w", ws, ErrNotFound)
		}
		return WriteKey{}, "", fmt.Errorf("create write key: %w", err)
	}
	return k, key, nil
}

const writeKeyColumns = "id, workspace_id, name, prefix, created_at, last_used_at, revoked_at"

// WriteKeyByHash finds a key, revoked or not, by HashWriteKey of its text;
// ErrNotFound when there is none.
func (s *Store) WriteKeyByHash(ctx context.Context, hash string) (WriteKey, error) {
	row := s.sql.QueryRowContext(ctx, s.rebind("SELECT "+writeKeyColumns+" FROM write_keys WHERE key_hash = ?"), hash)
	k, err := scanWriteKey(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return WriteKey{}, ErrNotFound
	}
	return k, err
}

// WriteKeys lists a workspace's keys, active ones first, newest first.
func (s *Store) WriteKeys(ctx context.Context, ws uuid.UUID) ([]WriteKey, error) {
	rows, err := s.sql.QueryContext(ctx, s.rebind("SELECT "+writeKeyColumns+
		" FROM write_keys WHERE workspace_id = ? ORDER BY (revoked_at IS NULL) DESC, created_at DESC, id"), ws.String())
	if err != nil {
		return nil, fmt.Errorf("list write keys of %s: %w", ws, err)
	}
	defer rows.Close()
	var out []WriteKey
	for rows.Next() {
		k, err := scanWriteKey(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list write keys of %s: %w", ws, err)
	}
	return out, nil
}

// RevokeWriteKey stops a key of workspace ws for good. Revoking a revoked
// key is a no-op; a key of another workspace is ErrNotFound.
func (s *Store) RevokeWriteKey(ctx context.Context, ws, id uuid.UUID) error {
	res, err := s.sql.ExecContext(ctx, s.rebind(
		"UPDATE write_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND workspace_id = ?"),
		s.timeArg(time.Now()), id.String(), ws.String())
	if err != nil {
		return fmt.Errorf("revoke write key %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchWriteKey records that a key was used at. Callers throttle it: it is
// for the dashboard's "last used", not an audit log.
func (s *Store) TouchWriteKey(ctx context.Context, id uuid.UUID, at time.Time) error {
	// The guard keeps a late, older write from moving the time backwards.
	_, err := s.sql.ExecContext(ctx, s.rebind(
		"UPDATE write_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)"),
		s.timeArg(at), id.String(), s.timeArg(at))
	if err != nil {
		return fmt.Errorf("touch write key %s: %w", id, err)
	}
	return nil
}

func scanWriteKey(scan func(...any) error) (WriteKey, error) {
	var k WriteKey
	var id, ws string
	var created dbTime
	var used, revoked nullTime
	if err := scan(&id, &ws, &k.Name, &k.Prefix, &created, &used, &revoked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return WriteKey{}, err
		}
		return WriteKey{}, fmt.Errorf("read write key: %w", err)
	}
	var err error
	if k.ID, err = uuid.Parse(id); err != nil {
		return WriteKey{}, fmt.Errorf("write key id %q: %w", id, err)
	}
	if k.WorkspaceID, err = uuid.Parse(ws); err != nil {
		return WriteKey{}, fmt.Errorf("write key %s workspace id %q: %w", id, ws, err)
	}
	k.CreatedAt = created.Time
	if used.Valid {
		k.LastUsedAt = &used.Time
	}
	if revoked.Valid {
		k.RevokedAt = &revoked.Time
	}
	return k, nil
}
