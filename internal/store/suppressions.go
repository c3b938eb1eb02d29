package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// SuppressionState is a cheap fingerprint of the suppression table: callers
// reload the hashes only when it changes.
type SuppressionState struct {
	Rows   int64
	Latest time.Time
}

// SuppressionStateNow reads the fingerprint.
func (s *Store) SuppressionStateNow(ctx context.Context) (SuppressionState, error) {
	var st SuppressionState
	var latest dbTime
	err := s.db.WithContext(ctx).Raw("SELECT count(*), max(created_at) FROM suppressions").Row().Scan(&st.Rows, &latest)
	if err != nil {
		return st, fmt.Errorf("suppressions: %w", err)
	}
	st.Latest = latest.Time
	return st, nil
}

// SuppressionHashes returns every suppressed id hash, per workspace.
func (s *Store) SuppressionHashes(ctx context.Context) (map[uuid.UUID]map[string]bool, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT workspace_id, id_hash FROM suppressions").Rows()
	if err != nil {
		return nil, fmt.Errorf("read suppressions: %w", err)
	}
	defer rows.Close()
	out := map[uuid.UUID]map[string]bool{}
	for rows.Next() {
		var ws, h string
		if err := rows.Scan(&ws, &h); err != nil {
			return nil, fmt.Errorf("read suppression: %w", err)
		}
		id, err := uuid.Parse(ws)
		if err != nil {
			return nil, fmt.Errorf("suppression workspace %q: %w", ws, err)
		}
		if out[id] == nil {
			out[id] = map[string]bool{}
		}
		out[id][h] = true
	}
	return out, rows.Err()
}

// IsSuppressed says whether an id hash of ws is suppressed.
func (s *Store) IsSuppressed(ctx context.Context, ws uuid.UUID, hash string) (bool, error) {
	var n int
	err := s.db.WithContext(ctx).Raw("SELECT count(*) FROM suppressions WHERE workspace_id = ? AND id_hash = ?", ws.String(), hash).Row().Scan(&n)
	if err != nil {
		return false, fmt.Errorf("suppression lookup: %w", err)
	}
	return n > 0, nil
}

// LiftSuppression lifts the suppression holding hash, with every other id
// suppressed by the same erasure; it returns how many ids it freed.
func (s *Store) LiftSuppression(ctx context.Context, ws uuid.UUID, hash string) (int64, error) {
	n, err := exec(s.db.WithContext(ctx), "DELETE FROM suppressions WHERE workspace_id = ? AND erasure_id IN "+
		"(SELECT erasure_id FROM suppressions WHERE workspace_id = ? AND id_hash = ?)", ws.String(), ws.String(), hash)
	if err != nil {
		return 0, fmt.Errorf("lift suppression: %w", err)
	}
	return n, nil
}

// Erasure records that someone asked for a user to be erased; it holds no
// erased id or data.
type Erasure struct {
	ID            uuid.UUID
	WorkspaceID   uuid.UUID
	RequestedBy   string
	Source        string // api, dashboard, cli, segment
	RequestedAt   time.Time
	FinishedAt    *time.Time
	Identities    int
	EventsDeleted int64
	Suppressed    bool
}

// BeginErasure records the request and suppresses hashes, in the profile
// transaction that also deletes the profile.
func (p *ProfileTx) BeginErasure(e Erasure, hashes []string) error {
	_, err := exec(p.tx, "INSERT INTO erasures (id, workspace_id, requested_by, source, requested_at, identities, suppressed) VALUES (?, ?, ?, ?, ?, ?, ?)",
		e.ID.String(), p.ws.String(), e.RequestedBy, e.Source, at(e.RequestedAt), e.Identities, e.Suppressed)
	if err != nil {
		return fmt.Errorf("record erasure: %w", err)
	}
	rows := make([][]any, 0, len(hashes))
	now := at(time.Now())
	for _, h := range hashes {
		rows = append(rows, []any{p.ws.String(), h, e.ID.String(), now})
	}
	if err := p.insertRows("INSERT INTO suppressions (workspace_id, id_hash, erasure_id, created_at)",
		"ON CONFLICT (workspace_id, id_hash) DO UPDATE SET erasure_id = excluded.erasure_id", rows); err != nil {
		return fmt.Errorf("suppress erased ids: %w", err)
	}
	return nil
}

// FinishErasure records how many events an erasure deleted, and lifts its
// suppressions when the requester did not want them kept.
func (s *Store) FinishErasure(ctx context.Context, id uuid.UUID, events int64, keepSuppressed bool) error {
	if !keepSuppressed {
		if _, err := exec(s.db.WithContext(ctx), "DELETE FROM suppressions WHERE erasure_id = ?", id.String()); err != nil {
			return fmt.Errorf("lift erasure's suppressions: %w", err)
		}
	}
	_, err := exec(s.db.WithContext(ctx), "UPDATE erasures SET finished_at = ?, events_deleted = ? WHERE id = ?",
		at(time.Now()), events, id.String())
	if err != nil {
		return fmt.Errorf("finish erasure %s: %w", id, err)
	}
	return nil
}

// Erasures lists a workspace's erasure records, newest first.
func (s *Store) Erasures(ctx context.Context, ws uuid.UUID, limit int) ([]Erasure, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT id, requested_by, source, requested_at, finished_at, identities, events_deleted, suppressed "+
		"FROM erasures WHERE workspace_id = ? ORDER BY requested_at DESC, id LIMIT ?", ws.String(), limit).Rows()
	if err != nil {
		return nil, fmt.Errorf("list erasures: %w", err)
	}
	defer rows.Close()
	var out []Erasure
	for rows.Next() {
		e := Erasure{WorkspaceID: ws}
		var id string
		var at dbTime
		var fin dbTime
		if err := rows.Scan(&id, &e.RequestedBy, &e.Source, &at, &fin, &e.Identities, &e.EventsDeleted, &e.Suppressed); err != nil {
			return nil, fmt.Errorf("read erasure: %w", err)
		}
		e.ID, _ = uuid.Parse(id)
		e.RequestedAt = at.Time
		if !fin.IsZero() {
			t := fin.Time
			e.FinishedAt = &t
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ErasureNeighbours reads, before an erasure deletes events, what else those
// events fed: the userIds (other than users) that sent events with one of
// anons, and the groups the erased identities joined.
func (s *Store) ErasureNeighbours(ctx context.Context, ws uuid.UUID, users, anons []string) (otherUsers, groups []string, err error) {
	seenU, seenG := map[string]bool{}, map[string]bool{}
	mine := map[string]bool{}
	for _, u := range users {
		mine[u] = true
	}
	for _, b := range []struct {
		col    string
		values []string
	}{{"user_id", users}, {"anonymous_id", anons}} {
		err := chunks(b.values, func(part []string) error {
			rows, err := s.db.WithContext(ctx).Raw("SELECT DISTINCT user_id, group_id FROM events WHERE workspace_id = ? AND "+
				b.col+" IN ("+placeholders(len(part))+")", strArgs([]any{ws.String()}, part)...).Rows()
			if err != nil {
				return fmt.Errorf("erasure neighbours: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var u, g string
				if err := rows.Scan(&u, &g); err != nil {
					return err
				}
				if u != "" && !mine[u] && !seenU[u] {
					seenU[u] = true
					otherUsers = append(otherUsers, u)
				}
				if g != "" && !seenG[g] {
					seenG[g] = true
					groups = append(groups, g)
				}
			}
			return rows.Err()
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return otherUsers, groups, nil
}

// GroupEvents streams the stored group calls of the given groups up to the
// feed position upTo. fn must not use the transaction.
func (p *ProfileTx) GroupEvents(groups []string, upTo FeedCursor, fn func(FeedEvent) error) error {
	pos, posArgs := "id <= ?", []any{upTo.ID}
	if p.s.dialect == Postgres {
		pos, posArgs = "(tx_id, id) <= (?::text::xid8, ?)", []any{strconv.FormatInt(upTo.Tx, 10), upTo.ID}
	}
	return chunks(groups, func(part []string) error {
		args := append(strArgs([]any{p.ws.String()}, part), posArgs...)
		rows, err := p.tx.Raw("SELECT id, message_id, group_id, timestamp, received_at, raw FROM events WHERE workspace_id = ? AND group_id IN ("+
			placeholders(len(part))+") AND group_id <> '' AND type = 'group' AND "+pos, args...).Rows()
		if err != nil {
			return fmt.Errorf("group events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			e := FeedEvent{WorkspaceID: p.ws, Type: "group"}
			var ts dbTime
			var rec dbTime
			var raw string
			if err := rows.Scan(&e.Cursor.ID, &e.MessageID, &e.GroupID, &ts, &rec, &raw); err != nil {
				return fmt.Errorf("read group event: %w", err)
			}
			if !ts.IsZero() {
				t := ts.Time
				e.Timestamp = &t
			}
			e.ReceivedAt, e.Raw = rec.Time, []byte(raw)
			if err := fn(e); err != nil {
				return err
			}
		}
		return rows.Err()
	})
}

// DeleteGroupDocs removes group documents.
func (p *ProfileTx) DeleteGroupDocs(ids []string) error {
	return chunks(ids, func(part []string) error {
		_, err := exec(p.tx, "DELETE FROM profile_groups WHERE workspace_id = ? AND group_id IN ("+placeholders(len(part))+")",
			strArgs([]any{p.ws.String()}, part)...)
		if err != nil {
			return fmt.Errorf("delete group docs: %w", err)
		}
		return nil
	})
}
