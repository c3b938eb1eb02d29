package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// API token scopes: read serves the /api/v1 reads; write also erases.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// APIToken authenticates the read API (/api/v1) for one workspace. The token
// is shown once, when created; the store keeps only its SHA-256.
type APIToken struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	Name        string
	Scope       string
	Prefix      string // the token's first characters, for display
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	RevokedAt   *time.Time
	ExpiresAt   *time.Time // nil: never expires
}

// Active reports whether the token still authenticates at now: not revoked
// and not past its expiry.
func (t APIToken) Active(now time.Time) bool { return t.RevokedAt == nil && !t.Expired(now) }

// Expired reports whether the token's expiry has passed at now.
func (t APIToken) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// NewAPIToken is what CreateAPIToken makes.
type NewAPIToken struct {
	Name      string
	Scope     string
	ExpiresAt *time.Time // nil: never expires
}

// APITokenPrefix marks Inlet API tokens, so a leaked one is recognisable
// (secret scanners) and cannot be mistaken for a write key.
const APITokenPrefix = "inlet_"

// CreateAPIToken makes a token and returns it with its plaintext, which is
// never stored.
func (s *Store) CreateAPIToken(ctx context.Context, ws uuid.UUID, name, scope string) (APIToken, string, error) {
	return s.CreateAPITokenWith(ctx, ws, NewAPIToken{Name: name, Scope: scope})
}

// CreateAPITokenWith is CreateAPIToken with every field, the expiry among them.
func (s *Store) CreateAPITokenWith(ctx context.Context, ws uuid.UUID, n NewAPIToken) (APIToken, string, error) {
	name, scope := strings.TrimSpace(n.Name), n.Scope
	if utf8.RuneCountInString(name) > MaxWriteKeyName {
		return APIToken{}, "", fmt.Errorf("token name is longer than %d characters", MaxWriteKeyName)
	}
	if scope != ScopeRead && scope != ScopeWrite {
		return APIToken{}, "", fmt.Errorf("token scope %q: must be read or write", scope)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var expires *time.Time
	if n.ExpiresAt != nil {
		e := n.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !e.After(now) {
			return APIToken{}, "", errors.New("token expiry must be in the future")
		}
		expires = &e
	}
	token := APITokenPrefix + rand.Text() // 130 random bits
	t := APIToken{ID: uuid.New(), WorkspaceID: ws, Name: name, Scope: scope, Prefix: token[:len(APITokenPrefix)+6],
		CreatedAt: now, ExpiresAt: expires}
	var exp dbTime
	if expires != nil {
		exp = at(*expires)
	}
	_, err := exec(s.db.WithContext(ctx),
		"INSERT INTO api_tokens (id, workspace_id, name, scope, token_hash, prefix, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		t.ID.String(), ws.String(), t.Name, t.Scope, HashWriteKey(token), t.Prefix, at(t.CreatedAt), exp)
	if err != nil {
		if IsDataError(err) {
			return APIToken{}, "", fmt.Errorf("create API token for workspace %s: %w", ws, ErrNotFound)
		}
		return APIToken{}, "", fmt.Errorf("create API token: %w", err)
	}
	return t, token, nil
}

const apiTokenCols = "id, workspace_id, name, scope, prefix, created_at, last_used_at, revoked_at, expires_at"

// APITokenByHash finds a token, revoked or not, by HashWriteKey of its
// text; ErrNotFound when there is none.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	row := s.db.WithContext(ctx).Raw("SELECT "+apiTokenCols+" FROM api_tokens WHERE token_hash = ?", hash).Row()
	t, err := scanAPIToken(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, ErrNotFound
	}
	return t, err
}

// APITokens lists a workspace's tokens, active first, newest first.
func (s *Store) APITokens(ctx context.Context, ws uuid.UUID) ([]APIToken, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT "+apiTokenCols+
		" FROM api_tokens WHERE workspace_id = ? ORDER BY (revoked_at IS NULL) DESC, created_at DESC, id", ws.String()).Rows()
	if err != nil {
		return nil, fmt.Errorf("list API tokens of %s: %w", ws, err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		t, err := scanAPIToken(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken stops a token of ws for good; ErrNotFound for a token of
// another workspace.
func (s *Store) RevokeAPIToken(ctx context.Context, ws, id uuid.UUID) error {
	n, err := exec(s.db.WithContext(ctx),
		"UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND workspace_id = ?",
		at(time.Now()), id.String(), ws.String())
	if err != nil {
		return fmt.Errorf("revoke API token %s: %w", id, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// TouchAPIToken records when a token was last used (callers throttle it).
func (s *Store) TouchAPIToken(ctx context.Context, id uuid.UUID, when time.Time) error {
	_, err := exec(s.db.WithContext(ctx),
		"UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
		at(when), id.String(), at(when))
	if err != nil {
		return fmt.Errorf("touch API token %s: %w", id, err)
	}
	return nil
}

func scanAPIToken(scan func(...any) error) (APIToken, error) {
	var t APIToken
	var id, ws string
	var created dbTime
	var used, revoked, expires dbTime
	if err := scan(&id, &ws, &t.Name, &t.Scope, &t.Prefix, &created, &used, &revoked, &expires); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return APIToken{}, err
		}
		return APIToken{}, fmt.Errorf("read API token: %w", err)
	}
	var err error
	if t.ID, err = uuid.Parse(id); err != nil {
		return APIToken{}, fmt.Errorf("API token id %q: %w", id, err)
	}
	if t.WorkspaceID, err = uuid.Parse(ws); err != nil {
		return APIToken{}, fmt.Errorf("API token %s workspace %q: %w", id, ws, err)
	}
	t.CreatedAt = created.Time
	if !used.IsZero() {
		t.LastUsedAt = &used.Time
	}
	if !revoked.IsZero() {
		t.RevokedAt = &revoked.Time
	}
	if !expires.IsZero() {
		t.ExpiresAt = &expires.Time
	}
	return t, nil
}
