package store

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// AudienceRead runs fn in a transaction over ws's audience tables without
// taking the audience lock: for answers (explain, preview) that only read.
func (s *Store) AudienceRead(ctx context.Context, ws uuid.UUID, fn func(*AudienceTx) error) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		a := &AudienceTx{s: s, tx: tx, ws: ws}
		if err := first(tx, &a.cursor, "SELECT tx, id FROM audience_cursors WHERE workspace_id = ?", ws.String()); err != nil && err != ErrNotFound {
			return fmt.Errorf("audience cursor of %s: %w", ws, err)
		}
		return fn(a)
	})
}

// AudienceMemberCounts counts each audience's members in its current version.
func (s *Store) AudienceMemberCounts(ctx context.Context, ws uuid.UUID) (map[string]int64, error) {
	var rows []struct {
		AudienceKey string
		N           int64
	}
	err := s.db.WithContext(ctx).Raw(`SELECT m.audience_key, count(*) AS n FROM audience_members m
		JOIN audiences a ON a.workspace_id = m.workspace_id AND a.key = m.audience_key AND a.current_version = m.version
		WHERE m.workspace_id = ? AND m.member GROUP BY m.audience_key`, ws.String()).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("count audience members of %s: %w", ws, err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.AudienceKey] = r.N
	}
	return out, nil
}

// MemberCursor is the page cursor after a member's profile key.
func MemberCursor(profileKey string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(profileKey))
}

// ParseMemberCursor reads what MemberCursor wrote; ErrBadCursor for
// anything else, including text PostgreSQL refuses (invalid UTF-8, NUL),
// which was never a profile key.
func ParseMemberCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 2048 || !utf8.Valid(b) || strings.ContainsRune(string(b), 0) {
		return "", ErrBadCursor
	}
	return string(b), nil
}

// AudienceMembersPage reads up to limit members of one audience version
// after a profile key (a keyset page).
func (s *Store) AudienceMembersPage(ctx context.Context, ws uuid.UUID, key string, version int, after string, limit int) ([]MemberRow, error) {
	var rows []memberRecord
	err := s.db.WithContext(ctx).Raw(`SELECT audience_key, version, profile_key, member, since, seq FROM audience_members
		WHERE workspace_id = ? AND audience_key = ? AND version = ? AND member AND profile_key > ?
		ORDER BY profile_key LIMIT ?`, ws.String(), key, version, after, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("page members of %q: %w", key, err)
	}
	out := make([]MemberRow, len(rows))
	for i, r := range rows {
		out[i] = MemberRow{r.AudienceKey, r.Version, r.ProfileKey, r.Member, r.Since.Time, r.Seq}
	}
	return out, nil
}

// ProfileAudiences lists the audiences a profile is a member of now
// (current versions), by audience key.
func (s *Store) ProfileAudiences(ctx context.Context, ws uuid.UUID, profileKey string) ([]MemberRow, error) {
	var rows []memberRecord
	err := s.db.WithContext(ctx).Raw(`SELECT m.audience_key, m.version, m.profile_key, m.member, m.since, m.seq FROM audience_members m
		JOIN audiences a ON a.workspace_id = m.workspace_id AND a.key = m.audience_key AND a.current_version = m.version
		WHERE m.workspace_id = ? AND m.profile_key = ? AND m.member ORDER BY m.audience_key`, ws.String(), profileKey).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("audiences of profile %q: %w", profileKey, err)
	}
	out := make([]MemberRow, len(rows))
	for i, r := range rows {
		out[i] = MemberRow{r.AudienceKey, r.Version, r.ProfileKey, r.Member, r.Since.Time, r.Seq}
	}
	return out, nil
}

type historyRecord struct {
	ID          int64
	AudienceKey string
	Version     int
	ProfileKey  string
	UserID      string
	Entered     bool
	At          dbTime
	Cause       string
}

// AudienceHistoryPage reads an audience's transitions newest first, before
// an id (0: from the newest), optionally of one profile.
func (s *Store) AudienceHistoryPage(ctx context.Context, ws uuid.UUID, key, profileKey string, before int64, limit int) ([]HistoryRow, error) {
	q := "SELECT id, audience_key, version, profile_key, user_id, entered, at, cause FROM audience_history WHERE workspace_id = ? AND audience_key = ?"
	args := []any{ws.String(), key}
	if profileKey != "" {
		q += " AND profile_key = ?"
		args = append(args, profileKey)
	}
	if before > 0 {
		q += " AND id < ?"
		args = append(args, before)
	}
	var rows []historyRecord
	if err := s.db.WithContext(ctx).Raw(q+" ORDER BY id DESC LIMIT ?", append(args, limit)...).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("history of %q: %w", key, err)
	}
	out := make([]HistoryRow, len(rows))
	for i, r := range rows {
		out[i] = HistoryRow{r.ID, r.AudienceKey, r.Version, r.ProfileKey, r.UserID, r.Entered, r.At.Time, r.Cause}
	}
	return out, nil
}

// DeleteAudienceHistoryBefore deletes transitions recorded before cutoff,
// at most limit per statement, and says how many it deleted.
func (s *Store) DeleteAudienceHistoryBefore(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res := s.db.WithContext(ctx).Exec("DELETE FROM audience_history WHERE "+s.idsIn("SELECT id FROM audience_history WHERE at < ? ORDER BY at LIMIT ?"),
		at(cutoff), limit)
	if res.Error != nil {
		return 0, fmt.Errorf("delete audience history before %s: %w", cutoff.UTC().Format(time.RFC3339), res.Error)
	}
	return res.RowsAffected, nil
}
