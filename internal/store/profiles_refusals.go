package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// Why an alias call did not merge.
const (
	// RefusedUntrusted: both sides have a userId with events of their own
	// and the call came from an untrusted source (a client write key).
	RefusedUntrusted = "untrusted"
	// RefusedMaxUserIDs: the merged profile would hold more userIds than
	// PROFILE_MAX_USER_IDS allows.
	RefusedMaxUserIDs = "max_user_ids"
)

// MergeRefusal is an alias call that did not merge, and why.
type MergeRefusal struct {
	Alias
	Reason string
	Other  string // on a profile's list: the id on the other side
}

const refusalCols = "message_id, previous_id, user_id, trusted, reason, ts"

type refusalRow struct {
	MessageID  string
	PreviousID string
	UserID     string
	Trusted    bool
	Reason     string
	TS         dbTime
	Other      string
}

func (r refusalRow) refusal() MergeRefusal {
	return MergeRefusal{Alias: Alias{MessageID: r.MessageID, PreviousID: r.PreviousID, UserID: r.UserID, Trusted: r.Trusted, TS: r.TS.Time},
		Reason: r.Reason, Other: r.Other}
}

// ReplaceMergeRefusals makes the stored refusals of aliases (every call of
// one resolved component) be exactly want, and returns the refusals that
// were not stored before.
func (p *ProfileTx) ReplaceMergeRefusals(aliases []Alias, want []MergeRefusal) ([]MergeRefusal, error) {
	mids := map[string]bool{}
	for _, a := range aliases {
		mids[a.MessageID] = true
	}
	midList := make([]string, 0, len(mids))
	for m := range mids {
		midList = append(midList, m)
	}
	stored := map[string]MergeRefusal{}
	err := chunks(midList, func(part []string) error {
		var rows []refusalRow
		err := all(p.tx, &rows, "SELECT "+refusalCols+" FROM profile_merge_refusals WHERE workspace_id = ? AND message_id IN ("+
			placeholders(len(part))+")", strArgs([]any{p.ws.String()}, part)...)
		for _, r := range rows {
			stored[r.refusal().Key()] = r.refusal()
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read merge refusals: %w", err)
	}
	inComp := map[string]bool{}
	for _, a := range aliases {
		inComp[a.Key()] = true
	}
	wanted := map[string]bool{}
	var added []MergeRefusal
	var rows [][]any
	for _, r := range want {
		wanted[r.Key()] = true
		if old, ok := stored[r.Key()]; ok && old.Reason == r.Reason && old.TS.Equal(r.TS) {
			continue
		}
		if _, ok := stored[r.Key()]; !ok {
			added = append(added, r)
		}
		rows = append(rows, []any{p.ws.String(), r.MessageID, r.PreviousID, r.UserID, r.Trusted, r.Reason, at(r.TS)})
	}
	for k, r := range stored {
		if inComp[k] && !wanted[k] {
			_, err := exec(p.tx, "DELETE FROM profile_merge_refusals WHERE workspace_id = ? AND message_id = ? AND previous_id = ? AND user_id = ? AND trusted = ?",
				p.ws.String(), r.MessageID, r.PreviousID, r.UserID, r.Trusted)
			if err != nil {
				return nil, fmt.Errorf("delete merge refusal: %w", err)
			}
		}
	}
	err = p.insertRows("INSERT INTO profile_merge_refusals (workspace_id, "+refusalCols+")",
		"ON CONFLICT (workspace_id, message_id, previous_id, user_id, trusted) DO UPDATE SET reason = excluded.reason, ts = excluded.ts", rows)
	if err != nil {
		return nil, fmt.Errorf("store merge refusals: %w", err)
	}
	return added, nil
}

// DeleteMergeRefusals removes every refusal touching ids (an erasure).
func (p *ProfileTx) DeleteMergeRefusals(ids []string) error {
	return chunks(ids, func(part []string) error {
		ph := placeholders(len(part))
		_, err := exec(p.tx, "DELETE FROM profile_merge_refusals WHERE workspace_id = ? AND (previous_id IN ("+ph+") OR user_id IN ("+ph+"))",
			strArgs(strArgs([]any{p.ws.String()}, part), part)...)
		if err != nil {
			return fmt.Errorf("delete merge refusals: %w", err)
		}
		return nil
	})
}

// profileRefusalsSQL selects the refusals touching any userId of one
// profile, with the id on the other side; arguments: ws, key, ws, key.
const profileRefusalsSQL = "SELECT r.message_id, r.previous_id, r.user_id, r.trusted, r.reason, r.ts, r.user_id AS other" +
	" FROM profile_merge_refusals r JOIN profile_identities i ON i.workspace_id = r.workspace_id AND i.kind = 'user' AND i.value = r.previous_id" +
	" WHERE r.workspace_id = ? AND i.profile_key = ?" +
	" UNION ALL SELECT r.message_id, r.previous_id, r.user_id, r.trusted, r.reason, r.ts, r.previous_id AS other" +
	" FROM profile_merge_refusals r JOIN profile_identities i ON i.workspace_id = r.workspace_id AND i.kind = 'user' AND i.value = r.user_id" +
	" WHERE r.workspace_id = ? AND i.profile_key = ?"

// ProfileMergeRefusals lists the newest refusals touching a profile's
// userIds (at most limit) and how many there are in all.
func (s *Store) ProfileMergeRefusals(ctx context.Context, ws uuid.UUID, key string, limit int) ([]MergeRefusal, int64, error) {
	args := []any{ws.String(), key, ws.String(), key}
	var total int64
	if err := first(s.db.WithContext(ctx), &total, "SELECT count(*) FROM ("+profileRefusalsSQL+") x", args...); err != nil {
		return nil, 0, fmt.Errorf("count merge refusals of %s: %w", key, err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	var rows []refusalRow
	err := all(s.db.WithContext(ctx), &rows, "SELECT * FROM ("+profileRefusalsSQL+") x ORDER BY ts DESC, message_id, other LIMIT ?",
		append(args, limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("merge refusals of %s: %w", key, err)
	}
	out := make([]MergeRefusal, len(rows))
	for i, r := range rows {
		out[i] = r.refusal()
	}
	return out, total, nil
}

// ListMergeRefusals lists a workspace's refusals newest first, limit of
// them from offset (a page of the warnings list), and how many there are.
func (s *Store) ListMergeRefusals(ctx context.Context, ws uuid.UUID, offset, limit int) ([]MergeRefusal, int64, error) {
	var total int64
	db := s.db.WithContext(ctx)
	if err := first(db, &total, "SELECT count(*) FROM profile_merge_refusals WHERE workspace_id = ?", ws.String()); err != nil {
		return nil, 0, fmt.Errorf("count merge refusals of %s: %w", ws, err)
	}
	var rows []refusalRow
	err := all(db, &rows, "SELECT "+refusalCols+" FROM profile_merge_refusals WHERE workspace_id = ? ORDER BY ts DESC, message_id, previous_id, user_id, trusted LIMIT ? OFFSET ?",
		ws.String(), limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list merge refusals of %s: %w", ws, err)
	}
	out := make([]MergeRefusal, len(rows))
	for i, r := range rows {
		out[i] = r.refusal()
	}
	return out, total, nil
}
