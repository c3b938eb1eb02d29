package store

import (
	"context"
	"crypto/rand"
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
	var r apiTokenRow
	if err := first(s.db.WithContext(ctx), &r, "SELECT "+apiTokenCols+" FROM api_tokens WHERE token_hash = ?", hash); err != nil {
		if errors.Is(err, ErrNotFound) {
			return APIToken{}, err
		}
		return APIToken{}, fmt.Errorf("read API token: %w", err)
	}
	return r.token()
}

// APITokens lists a workspace's tokens, active first, newest first.
func (s *Store) APITokens(ctx context.Context, ws uuid.UUID) ([]APIToken, error) {
	var rows []apiTokenRow
	err := all(s.db.WithContext(ctx), &rows, "SELECT "+apiTokenCols+
		" FROM api_tokens WHERE workspace_id = ? ORDER BY (revoked_at IS NULL) DESC, created_at DESC, id", ws.String())
	if err != nil {
		return nil, fmt.Errorf("list API tokens of %s: %w", ws, err)
	}
	var out []APIToken
	for _, r := range rows {
		t, err := r.token()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
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

// apiTokenRow is an api_tokens row as apiTokenCols reads it.
type apiTokenRow struct {
	ID, WorkspaceID, Name, Scope, Prefix        string
	CreatedAt, LastUsedAt, RevokedAt, ExpiresAt dbTime
}

func (r apiTokenRow) token() (APIToken, error) {
	t := APIToken{Name: r.Name, Scope: r.Scope, Prefix: r.Prefix, CreatedAt: r.CreatedAt.Time,
		LastUsedAt: r.LastUsedAt.ptr(), RevokedAt: r.RevokedAt.ptr(), ExpiresAt: r.ExpiresAt.ptr()}
	var err error
	if t.ID, err = uuid.Parse(r.ID); err != nil {
		return APIToken{}, fmt.Errorf("API token id %q: %w", r.ID, err)
	}
	if t.WorkspaceID, err = uuid.Parse(r.WorkspaceID); err != nil {
		return APIToken{}, fmt.Errorf("API token %s workspace %q: %w", r.ID, r.WorkspaceID, err)
	}
	return t, nil
}
