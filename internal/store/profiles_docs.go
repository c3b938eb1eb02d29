package store

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ProfileRow is one stored profile. Doc is internal/profiles' JSON document;
// the store keeps it opaque and indexes TraitValues for search.
type ProfileRow struct {
	Key         string
	UserID      string
	AnonymousID string
	FirstSeen   time.Time
	LastSeen    time.Time
	EventCount  int64
	Doc         []byte
	TraitValues []TraitValue
	// TraitValuesChanged says PutProfiles must replace the stored trait
	// values with TraitValues; when false they are left as they are.
	TraitValuesChanged bool
}

// TraitValue is one searchable (key, scalar value) of a profile.
type TraitValue struct{ Key, Value string }

const profileCols = "profile_key, user_id, anonymous_id, first_seen, last_seen, event_count, doc"

// profileRow is one row of profiles (profileCols).
type profileRow struct {
	ProfileKey, UserID, AnonymousID string
	FirstSeen, LastSeen             dbTime
	EventCount                      int64
	Doc                             string
}

func (r profileRow) profile() ProfileRow {
	return ProfileRow{Key: r.ProfileKey, UserID: r.UserID, AnonymousID: r.AnonymousID, FirstSeen: r.FirstSeen.Time,
		LastSeen: r.LastSeen.Time, EventCount: r.EventCount, Doc: []byte(r.Doc)}
}

// profiles reads the profiles q selects (profileCols).
func profiles(db *gorm.DB, q string, args ...any) ([]ProfileRow, error) {
	var rows []profileRow
	if err := all(db, &rows, q, args...); err != nil {
		return nil, err
	}
	var out []ProfileRow
	for _, r := range rows {
		out = append(out, r.profile())
	}
	return out, nil
}

// profileOne reads the one profile q selects, or ErrNotFound.
func profileOne(db *gorm.DB, q string, args ...any) (ProfileRow, error) {
	var r profileRow
	if err := first(db, &r, q, args...); err != nil {
		return ProfileRow{}, err
	}
	return r.profile(), nil
}

// Profiles returns the stored profiles among keys.
func (p *ProfileTx) Profiles(keys []string) (map[string]ProfileRow, error) {
	out := make(map[string]ProfileRow, len(keys))
	err := chunks(keys, func(part []string) error {
		prs, err := profiles(p.tx, "SELECT "+profileCols+" FROM profiles WHERE workspace_id = ? AND profile_key IN ("+
			placeholders(len(part))+")", strArgs([]any{p.ws.String()}, part)...)
		if err != nil {
			return fmt.Errorf("read profiles: %w", err)
		}
		for _, pr := range prs {
			out[pr.Key] = pr
		}
		return nil
	})
	return out, err
}

// PutProfiles inserts or replaces profiles and their searchable trait values.
func (p *ProfileTx) PutProfiles(profiles []ProfileRow) error {
	if len(profiles) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(profiles))
	keys := make([]string, 0, len(profiles))
	var tv [][]any
	for _, pr := range profiles {
		rows = append(rows, []any{p.ws.String(), pr.Key, pr.UserID, pr.AnonymousID, at(pr.FirstSeen),
			at(pr.LastSeen), pr.EventCount, string(pr.Doc)})
		if !pr.TraitValuesChanged {
			continue
		}
		keys = append(keys, pr.Key)
		for _, t := range pr.TraitValues {
			tv = append(tv, []any{p.ws.String(), t.Key, t.Value, pr.Key})
		}
	}
	err := p.insertRows("INSERT INTO profiles (workspace_id, "+profileCols+")",
		"ON CONFLICT (workspace_id, profile_key) DO UPDATE SET user_id = excluded.user_id, anonymous_id = excluded.anonymous_id, "+
			"first_seen = excluded.first_seen, last_seen = excluded.last_seen, event_count = excluded.event_count, doc = excluded.doc", rows)
	if err != nil {
		return fmt.Errorf("store profiles: %w", err)
	}
	if err := p.deleteTraitValues(keys); err != nil {
		return err
	}
	if err := p.insertRows("INSERT INTO profile_trait_values (workspace_id, key, value, profile_key)", "ON CONFLICT DO NOTHING", tv); err != nil {
		return fmt.Errorf("store profile trait values: %w", err)
	}
	return nil
}

func (p *ProfileTx) deleteTraitValues(keys []string) error {
	return chunks(keys, func(part []string) error {
		_, err := exec(p.tx, "DELETE FROM profile_trait_values WHERE workspace_id = ? AND profile_key IN ("+placeholders(len(part))+")",
			strArgs([]any{p.ws.String()}, part)...)
		if err != nil {
			return fmt.Errorf("delete profile trait values: %w", err)
		}
		return nil
	})
}

// DeleteProfiles removes profiles (not their identities).
func (p *ProfileTx) DeleteProfiles(keys []string) error {
	if err := p.deleteTraitValues(keys); err != nil {
		return err
	}
	return chunks(keys, func(part []string) error {
		_, err := exec(p.tx, "DELETE FROM profiles WHERE workspace_id = ? AND profile_key IN ("+placeholders(len(part))+")",
			strArgs([]any{p.ws.String()}, part)...)
		if err != nil {
			return fmt.Errorf("delete profiles: %w", err)
		}
		return nil
	})
}

// GroupDocs returns the stored documents of the given groups.
func (p *ProfileTx) GroupDocs(ids []string) (map[string][]byte, error) {
	return groupDocs(p.tx, p.ws, ids)
}

// groupDocs reads group documents through db: a transaction or the pool.
func groupDocs(db *gorm.DB, ws uuid.UUID, ids []string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(ids))
	err := chunks(ids, func(part []string) error {
		var rows []struct {
			GroupID string
			Doc     string
		}
		if err := db.Raw("SELECT group_id, doc FROM profile_groups WHERE workspace_id = ? AND group_id IN ?", ws.String(), part).
			Scan(&rows).Error; err != nil {
			return fmt.Errorf("read groups: %w", err)
		}
		for _, r := range rows {
			out[r.GroupID] = []byte(r.Doc)
		}
		return nil
	})
	return out, err
}

// PutGroupDocs inserts or replaces group documents.
func (p *ProfileTx) PutGroupDocs(docs map[string][]byte) error {
	rows := make([][]any, 0, len(docs))
	for id, doc := range docs {
		rows = append(rows, []any{p.ws.String(), id, string(doc)})
	}
	err := p.insertRows("INSERT INTO profile_groups (workspace_id, group_id, doc)",
		"ON CONFLICT (workspace_id, group_id) DO UPDATE SET doc = excluded.doc", rows)
	if err != nil {
		return fmt.Errorf("store groups: %w", err)
	}
	return nil
}

// --- reads for the API and the pages (no lock) ---

// ProfileByIdentity returns the profile an identity belongs to, or ErrNotFound.
func (s *Store) ProfileByIdentity(ctx context.Context, ws uuid.UUID, kind, value string) (ProfileRow, error) {
	pr, err := profileOne(s.db.WithContext(ctx), "SELECT "+prefixCols("p.", profileCols)+
		" FROM profile_identities i JOIN profiles p ON p.workspace_id = i.workspace_id AND p.profile_key = i.profile_key"+
		" WHERE i.workspace_id = ? AND i.kind = ? AND i.value = ?", ws.String(), kind, value)
	if errors.Is(err, ErrNotFound) {
		return ProfileRow{}, ErrNotFound
	}
	if err != nil {
		return ProfileRow{}, fmt.Errorf("profile of %s %q: %w", kind, value, err)
	}
	return pr, nil
}

// ProfileByKey returns one profile by its key, or ErrNotFound.
func (s *Store) ProfileByKey(ctx context.Context, ws uuid.UUID, key string) (ProfileRow, error) {
	pr, err := profileOne(s.db.WithContext(ctx), "SELECT "+profileCols+" FROM profiles WHERE workspace_id = ? AND profile_key = ?", ws.String(), key)
	if errors.Is(err, ErrNotFound) {
		return ProfileRow{}, ErrNotFound
	}
	if err != nil {
		return ProfileRow{}, fmt.Errorf("profile %q: %w", key, err)
	}
	return pr, nil
}

func prefixCols(prefix, cols string) string {
	parts := strings.Split(cols, ", ")
	for i := range parts {
		parts[i] = prefix + parts[i]
	}
	return strings.Join(parts, ", ")
}

// ProfileIdentities lists the identities of one profile, users first.
func (s *Store) ProfileIdentities(ctx context.Context, ws uuid.UUID, key string) ([]Identity, error) {
	return identities(s.db.WithContext(ctx), "SELECT "+identityCols+
		" FROM profile_identities WHERE workspace_id = ? AND profile_key = ? ORDER BY kind DESC, value", ws.String(), key)
}

// ProfileGroupDocs returns group documents by group id.
func (s *Store) ProfileGroupDocs(ctx context.Context, ws uuid.UUID, ids []string) (map[string][]byte, error) {
	return groupDocs(s.db.WithContext(ctx), ws, ids)
}

// ProfileCursorPos is a position in the newest-last-seen-first profile list.
type ProfileCursorPos struct {
	LastSeen time.Time
	Key      string
}

// String encodes the position for a URL.
func (c ProfileCursorPos) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.LastSeen.UnixNano(), 10) + "|" + c.Key))
}

// ParseProfileCursor reads what ProfileCursorPos.String wrote.
func ParseProfileCursor(s string) (ProfileCursorPos, error) {
	if len(s) > 2048 {
		return ProfileCursorPos{}, ErrBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return ProfileCursorPos{}, ErrBadCursor
	}
	ns, key, ok := strings.Cut(string(b), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	// Text PostgreSQL refuses (invalid UTF-8, NUL) was never a profile key.
	if !ok || err != nil || key == "" || !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return ProfileCursorPos{}, ErrBadCursor
	}
	return ProfileCursorPos{LastSeen: time.Unix(0, n).UTC(), Key: key}, nil
}

// ProfileFilter selects profiles to list. At most one of the search fields is used.
type ProfileFilter struct {
	TraitKey, TraitValue string // a trait equal to a value
	After                *ProfileCursorPos
	Limit                int
}

// ListProfiles returns one page of profiles, newest last seen first, and the
// cursor of the next page (nil at the end).
func (s *Store) ListProfiles(ctx context.Context, ws uuid.UUID, f ProfileFilter) ([]ProfileRow, *ProfileCursorPos, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	conds := []string{"p.workspace_id = ?"}
	args := []any{ws.String()}
	from := "profiles p"
	if f.TraitKey != "" {
		from = "profile_trait_values t JOIN profiles p ON p.workspace_id = t.workspace_id AND p.profile_key = t.profile_key"
		conds = append(conds, "t.workspace_id = ?", "t.key = ?", "t.value = ?")
		args = append(args, ws.String(), f.TraitKey, f.TraitValue)
	}
	if f.After != nil {
		conds = append(conds, "(p.last_seen < ? OR (p.last_seen = ? AND p.profile_key > ?))")
		args = append(args, at(f.After.LastSeen), at(f.After.LastSeen), f.After.Key)
	}
	q := "SELECT " + prefixCols("p.", profileCols) + " FROM " + from + " WHERE " + strings.Join(conds, " AND ") +
		" ORDER BY p.last_seen DESC, p.profile_key LIMIT " + strconv.Itoa(limit+1)
	out, err := profiles(s.db.WithContext(ctx), q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("list profiles of %s: %w", ws, err)
	}
	if len(out) <= limit {
		return out, nil, nil
	}
	out = out[:limit]
	last := out[limit-1]
	return out, &ProfileCursorPos{LastSeen: last.LastSeen, Key: last.Key}, nil
}

// RefusedIDs lists the ids refused as identities in ws, most events first.
func (s *Store) RefusedIDs(ctx context.Context, ws uuid.UUID, limit int) ([]RefusedID, error) {
	var out []RefusedID
	if err := all(s.db.WithContext(ctx), &out, "SELECT kind, value, events FROM profile_refused_ids WHERE workspace_id = ? ORDER BY events DESC, kind, value LIMIT ?",
		ws.String(), limit); err != nil {
		return nil, fmt.Errorf("refused ids of %s: %w", ws, err)
	}
	if len(out) == 0 {
		return nil, nil // as before: no rows is a nil slice
	}
	return out, nil
}

// IdentitiesOfProfiles returns the identities of several profiles, by profile key.
func (s *Store) IdentitiesOfProfiles(ctx context.Context, ws uuid.UUID, keys []string) (map[string][]Identity, error) {
	out := map[string][]Identity{}
	err := chunks(keys, func(part []string) error {
		ids, err := identities(s.db.WithContext(ctx), "SELECT "+identityCols+" FROM profile_identities WHERE workspace_id = ? AND profile_key IN ("+
			placeholders(len(part))+") ORDER BY kind DESC, value", strArgs([]any{ws.String()}, part)...)
		for _, id := range ids {
			out[id.ProfileKey] = append(out[id.ProfileKey], id)
		}
		return err
	})
	return out, err
}

// CappedIdentities lists the identities the anonymous-id cap kept apart
// from profile key (their candidate): still the same person's.
func (s *Store) CappedIdentities(ctx context.Context, ws uuid.UUID, key string) ([]Identity, error) {
	return identities(s.db.WithContext(ctx), "SELECT "+identityCols+
		" FROM profile_identities WHERE workspace_id = ? AND candidate = ? ORDER BY kind DESC, value", ws.String(), key)
}
