package store

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"time"
)

// LeafStateRow is one identity's state for one performed leaf.
type LeafStateRow struct {
	LeafID string
	Kind   string
	Value  string
	State  string // internal/audiences' JSON
}

// ProfileLeafState is a leaf state with the profile its identity belongs to.
type ProfileLeafState struct {
	LeafStateRow
	ProfileKey string
}

// LeafStates reads the states of leaves for identities of one kind. The
// leaf ids lead the primary key: without them the planner may walk every
// state of the workspace for a handful of identities.
func (a *AudienceTx) LeafStates(leafIDs []string, kind string, values []string) ([]LeafStateRow, error) {
	var out []LeafStateRow
	leafIDs = dedupeStrings(leafIDs)
	err := chunks(dedupeStrings(values), func(part []string) error {
		var rows []LeafStateRow
		args := strArgs(strArgs([]any{a.ws.String()}, leafIDs), append([]string{kind}, part...))
		if err := a.tx.Raw("SELECT leaf_id, kind, value, state FROM audience_leaf_states WHERE workspace_id = ? AND leaf_id IN ("+
			placeholders(len(leafIDs))+") AND kind = ? AND value IN ("+placeholders(len(part))+")", args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read leaf states: %w", err)
		}
		out = append(out, rows...)
		return nil
	})
	return out, err
}

// ProfileLeafStates reads the leaf states of every identity of profiles.
// On PostgreSQL the keys go as one array, each looked up through the
// profile index: with an IN list of hundreds of keys the planner scanned
// every identity of the workspace instead (30 ms a chunk of 500 at 100k
// profiles). The lookup is a LATERAL subquery with OFFSET 0, which the
// planner cannot flatten into a join: on tables that grew since their
// last ANALYZE (a new install's first burst) it otherwise believed the
// workspace had a hundred identities, scanned all 54,000 for each key and
// took a second per 200 profiles where this takes 5 ms.
func (a *AudienceTx) ProfileLeafStates(profileKeys []string) ([]ProfileLeafState, error) {
	var out []ProfileLeafState
	err := chunks(dedupeStrings(profileKeys), func(part []string) error {
		var rows []ProfileLeafState
		q := `SELECT s.leaf_id, s.kind, s.value, s.state, i.profile_key FROM profile_identities i
			JOIN audience_leaf_states s ON s.workspace_id = i.workspace_id AND s.kind = i.kind AND s.value = i.value
			WHERE i.workspace_id = ? AND i.profile_key IN (` + placeholders(len(part)) + ")"
		args := strArgs([]any{a.ws.String()}, part)
		if a.s.dialect == Postgres {
			q = `SELECT s.leaf_id, s.kind, s.value, s.state, i.profile_key FROM unnest(?::text[]) AS k(key)
			CROSS JOIN LATERAL (SELECT p.kind, p.value, p.profile_key FROM profile_identities p
				WHERE p.workspace_id = ? AND p.profile_key = k.key OFFSET 0) i
			JOIN audience_leaf_states s ON s.workspace_id = ? AND s.kind = i.kind AND s.value = i.value`
			args = []any{textArray(part), a.ws.String(), a.ws.String()}
		}
		if err := a.tx.Raw(q, args...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read profiles' leaf states: %w", err)
		}
		out = append(out, rows...)
		return nil
	})
	return out, err
}

var arrayEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// textArray is a PostgreSQL text[] parameter sent as its literal: GORM
// would spread a []string into a list of placeholders.
type textArray []string

// Value writes the array literal, each element quoted.
func (t textArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range t {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(arrayEscaper.Replace(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// PutLeafStates inserts or replaces leaf states; an empty State deletes.
func (a *AudienceTx) PutLeafStates(rows []LeafStateRow) error {
	var put [][]any
	gone := map[string][]LeafStateRow{}
	for _, r := range rows {
		if r.State == "" {
			gone[r.LeafID] = append(gone[r.LeafID], r)
			continue
		}
		put = append(put, []any{a.ws.String(), r.LeafID, r.Kind, r.Value, r.State})
	}
	for _, rs := range gone {
		for _, r := range rs {
			if err := a.tx.Exec("DELETE FROM audience_leaf_states WHERE workspace_id = ? AND leaf_id = ? AND kind = ? AND value = ?",
				a.ws.String(), r.LeafID, r.Kind, r.Value).Error; err != nil {
				return fmt.Errorf("delete leaf state: %w", err)
			}
		}
	}
	if err := execRows(a.tx, "INSERT INTO audience_leaf_states (workspace_id, leaf_id, kind, value, state)",
		"ON CONFLICT (workspace_id, leaf_id, kind, value) DO UPDATE SET state = excluded.state", put); err != nil {
		return fmt.Errorf("write %d leaf states: %w", len(put), err)
	}
	return nil
}

// ResetLeaf deletes every state of a leaf (before a backfill).
func (a *AudienceTx) ResetLeaf(leafID string) error {
	if err := a.tx.Exec("DELETE FROM audience_leaf_states WHERE workspace_id = ? AND leaf_id = ?", a.ws.String(), leafID).Error; err != nil {
		return fmt.Errorf("reset leaf %s: %w", leafID, err)
	}
	return nil
}

// ReadyLeaves lists the leaves whose states were filled from stored events.
func (a *AudienceTx) ReadyLeaves() (map[string]bool, error) {
	var ids []string
	if err := a.tx.Raw("SELECT leaf_id FROM audience_leaves WHERE workspace_id = ?", a.ws.String()).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("read leaves: %w", err)
	}
	out := make(map[string]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// MarkLeafReady records a backfilled leaf.
func (a *AudienceTx) MarkLeafReady(leafID string) error {
	if err := a.tx.Exec("INSERT INTO audience_leaves (workspace_id, leaf_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
		a.ws.String(), leafID).Error; err != nil {
		return fmt.Errorf("mark leaf %s: %w", leafID, err)
	}
	return nil
}

// DropLeaves forgets leaves no definition uses any more, with their states.
func (a *AudienceTx) DropLeaves(keep map[string]bool) error {
	ready, err := a.ReadyLeaves()
	if err != nil {
		return err
	}
	for id := range ready {
		if keep[id] {
			continue
		}
		if err := a.ResetLeaf(id); err != nil {
			return err
		}
		if err := a.tx.Exec("DELETE FROM audience_leaves WHERE workspace_id = ? AND leaf_id = ?", a.ws.String(), id).Error; err != nil {
			return fmt.Errorf("drop leaf %s: %w", id, err)
		}
	}
	return nil
}

// MemberRow is one (audience version, profile) membership record.
type MemberRow struct {
	AudienceKey string
	Version     int
	ProfileKey  string
	Member      bool
	Since       time.Time
	Seq         int
}

type memberRecord struct {
	AudienceKey string
	Version     int
	ProfileKey  string
	Member      bool
	Since       dbTime
	Seq         int
}

// Memberships reads every membership record of profiles.
func (a *AudienceTx) Memberships(profileKeys []string) ([]MemberRow, error) {
	var out []MemberRow
	err := chunks(dedupeStrings(profileKeys), func(part []string) error {
		var rows []memberRecord
		if err := a.tx.Raw("SELECT audience_key, version, profile_key, member, since, seq FROM audience_members WHERE workspace_id = ? AND profile_key IN ("+
			placeholders(len(part))+")", strArgs([]any{a.ws.String()}, part)...).Scan(&rows).Error; err != nil {
			return fmt.Errorf("read memberships: %w", err)
		}
		for _, r := range rows {
			out = append(out, MemberRow{r.AudienceKey, r.Version, r.ProfileKey, r.Member, r.Since.Time, r.Seq})
		}
		return nil
	})
	return out, err
}

// AudienceMembers reads every member record of one audience version.
func (a *AudienceTx) AudienceMembers(key string, version int) ([]MemberRow, error) {
	var rows []memberRecord
	if err := a.tx.Raw("SELECT audience_key, version, profile_key, member, since, seq FROM audience_members WHERE workspace_id = ? AND audience_key = ? AND version = ?",
		a.ws.String(), key, version).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read members of %q: %w", key, err)
	}
	out := make([]MemberRow, len(rows))
	for i, r := range rows {
		out[i] = MemberRow{r.AudienceKey, r.Version, r.ProfileKey, r.Member, r.Since.Time, r.Seq}
	}
	return out, nil
}

// PutMembers inserts or replaces membership records.
func (a *AudienceTx) PutMembers(rows []MemberRow) error {
	vals := make([][]any, 0, len(rows))
	for _, r := range rows {
		vals = append(vals, []any{a.ws.String(), r.AudienceKey, r.Version, r.ProfileKey, r.Member, at(r.Since), r.Seq})
	}
	if err := execRows(a.tx, "INSERT INTO audience_members (workspace_id, audience_key, version, profile_key, member, since, seq)",
		`ON CONFLICT (workspace_id, audience_key, version, profile_key)
			DO UPDATE SET member = excluded.member, since = excluded.since, seq = excluded.seq`, vals); err != nil {
		return fmt.Errorf("write %d memberships: %w", len(rows), err)
	}
	return nil
}

// DeleteProfileMemberships removes every membership record of profiles
// (a merged-away profile leaves quietly).
func (a *AudienceTx) DeleteProfileMemberships(profileKeys []string) error {
	return chunks(dedupeStrings(profileKeys), func(part []string) error {
		if err := a.tx.Exec("DELETE FROM audience_members WHERE workspace_id = ? AND profile_key IN ("+placeholders(len(part))+")",
			strArgs([]any{a.ws.String()}, part)...).Error; err != nil {
			return fmt.Errorf("delete memberships: %w", err)
		}
		return nil
	})
}

// HistoryRow is one recorded transition.
type HistoryRow struct {
	ID          int64
	AudienceKey string
	Version     int
	ProfileKey  string
	UserID      string
	Entered     bool
	At          time.Time
	Cause       string
}

// AddHistory records transitions.
func (a *AudienceTx) AddHistory(rows []HistoryRow) error {
	vals := make([][]any, 0, len(rows))
	for _, r := range rows {
		vals = append(vals, []any{a.ws.String(), r.AudienceKey, r.Version, r.ProfileKey, r.UserID, r.Entered, at(r.At), r.Cause})
	}
	if err := execRows(a.tx, "INSERT INTO audience_history (workspace_id, audience_key, version, profile_key, user_id, entered, at, cause)", "", vals); err != nil {
		return fmt.Errorf("record %d transitions: %w", len(rows), err)
	}
	return nil
}
