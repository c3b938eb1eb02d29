package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// WriteKey authenticates the HTTP Tracking API for one workspace. The key
// itself is shown once, when created; the store keeps only its SHA-256.
type WriteKey struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	Name        string
	Prefix      string // the key's first WriteKeyPrefixLen characters, for display
	Kind        string // WriteKeyClient or WriteKeyServer
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
}

// Write key kinds. A client key lives in a browser or an app and is public;
// a server key is a secret kept on a server. Only a server key's events are
// trusted to merge two known users (see internal/profiles).
const (
	WriteKeyClient = "client"
	WriteKeyServer = "server"
)

// ValidWriteKeyKind reports whether kind is one of the two kinds.
func ValidWriteKeyKind(kind string) bool { return kind == WriteKeyClient || kind == WriteKeyServer }

// Trusted reports whether the key's events may merge two known users.
func (k WriteKey) Trusted() bool { return k.Kind == WriteKeyServer }

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

// CreateWriteKey makes a new client key for a workspace; see CreateWriteKeyKind.
func (s *Store) CreateWriteKey(ctx context.Context, ws uuid.UUID, name string) (WriteKey, string, error) {
	return s.CreateWriteKeyKind(ctx, ws, name, WriteKeyClient)
}

// CreateWriteKeyKind makes a new key of kind for a workspace and returns it
// with its plaintext, which is never stored and cannot be read back later.
func (s *Store) CreateWriteKeyKind(ctx context.Context, ws uuid.UUID, name, kind string) (WriteKey, string, error) {
	if !ValidWriteKeyKind(kind) {
		return WriteKey{}, "", fmt.Errorf("write key kind %q: must be client or server", kind)
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxWriteKeyName {
		return WriteKey{}, "", fmt.Errorf("write key name is longer than %d characters", MaxWriteKeyName)
	}
	// rand.Text is 26 base32 characters (130 bits), safe in URLs, headers and shells.
	key := rand.Text()
	k := WriteKey{
		ID: uuid.New(), WorkspaceID: ws, Name: name, Prefix: key[:WriteKeyPrefixLen], Kind: kind,
		CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
	}
	row := writeKeyRow{ID: k.ID.String(), WorkspaceID: ws.String(), Name: k.Name, KeyHash: HashWriteKey(key),
		Prefix: k.Prefix, Kind: kind, CreatedAt: at(k.CreatedAt)}
	err := s.db.WithContext(ctx).Create(&row).Error
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

type writeKeyRow struct {
	ID          string `gorm:"primaryKey"`
	WorkspaceID string
	Name        string
	KeyHash     string
	Prefix      string
	Kind        string
	CreatedAt   dbTime `gorm:"autoCreateTime:false"`
	LastUsedAt  dbTime
	RevokedAt   dbTime
}

func (writeKeyRow) TableName() string { return "write_keys" }

// WriteKeyByHash finds a key, revoked or not, by HashWriteKey of its text;
// ErrNotFound when there is none.
func (s *Store) WriteKeyByHash(ctx context.Context, hash string) (WriteKey, error) {
	var row writeKeyRow
	err := s.db.WithContext(ctx).Where("key_hash = ?", hash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return WriteKey{}, ErrNotFound
	}
	if err != nil {
		return WriteKey{}, fmt.Errorf("read write key: %w", err)
	}
	return row.writeKey()
}

// WriteKeys lists a workspace's keys, active ones first, newest first.
func (s *Store) WriteKeys(ctx context.Context, ws uuid.UUID) ([]WriteKey, error) {
	var rows []writeKeyRow
	err := s.db.WithContext(ctx).Where("workspace_id = ?", ws.String()).
		Order("(revoked_at IS NULL) DESC, created_at DESC, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list write keys of %s: %w", ws, err)
	}
	var out []WriteKey
	for _, r := range rows {
		k, err := r.writeKey()
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// RevokeWriteKey stops a key of workspace ws for good. Revoking a revoked
// key is a no-op; a key of another workspace is ErrNotFound.
func (s *Store) RevokeWriteKey(ctx context.Context, ws, id uuid.UUID) error {
	res := s.db.WithContext(ctx).Model(&writeKeyRow{}).Where("id = ? AND workspace_id = ?", id.String(), ws.String()).
		Update("revoked_at", gorm.Expr("COALESCE(revoked_at, ?)", at(time.Now())))
	if res.Error != nil {
		return fmt.Errorf("revoke write key %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// SetWriteKeyKind changes the kind of a key of workspace ws. Events already
// stored keep the trust they were stored with; ErrNotFound for a key of
// another workspace.
func (s *Store) SetWriteKeyKind(ctx context.Context, ws, id uuid.UUID, kind string) error {
	if !ValidWriteKeyKind(kind) {
		return fmt.Errorf("write key kind %q: must be client or server", kind)
	}
	res := s.db.WithContext(ctx).Model(&writeKeyRow{}).Where("id = ? AND workspace_id = ?", id.String(), ws.String()).
		Update("kind", kind)
	if res.Error != nil {
		return fmt.Errorf("set kind of write key %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchWriteKey records that a key was used at. Callers throttle it: it is
// for the dashboard's "last used", not an audit log.
func (s *Store) TouchWriteKey(ctx context.Context, id uuid.UUID, usedAt time.Time) error {
	// The guard keeps a late, older write from moving the time backwards.
	err := s.db.WithContext(ctx).Model(&writeKeyRow{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id.String(), at(usedAt)).
		Update("last_used_at", at(usedAt)).Error
	if err != nil {
		return fmt.Errorf("touch write key %s: %w", id, err)
	}
	return nil
}

func (r writeKeyRow) writeKey() (WriteKey, error) {
	k := WriteKey{Name: r.Name, Prefix: r.Prefix, Kind: r.Kind, CreatedAt: r.CreatedAt.Time, LastUsedAt: r.LastUsedAt.ptr(), RevokedAt: r.RevokedAt.ptr()}
	var err error
	if k.ID, err = uuid.Parse(r.ID); err != nil {
		return WriteKey{}, fmt.Errorf("write key id %q: %w", r.ID, err)
	}
	if k.WorkspaceID, err = uuid.Parse(r.WorkspaceID); err != nil {
		return WriteKey{}, fmt.Errorf("write key %s workspace id %q: %w", r.ID, r.WorkspaceID, err)
	}
	return k, nil
}
