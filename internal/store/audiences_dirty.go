package store

import (
	"fmt"
	"maps"
	"slices"
)

// MarkAudienceDirty records profiles this batch wrote or deleted, each
// with the messageId of the event that changed it ("" when none did: a
// deletion), for the audience engine to re-evaluate; nothing when the
// workspace has no audiences, so profiles cost nothing more without them.
func (p *ProfileTx) MarkAudienceDirty(marks map[string]string) error {
	if len(marks) == 0 {
		return nil
	}
	var has int64
	if err := p.tx.Raw("SELECT count(*) FROM (SELECT 1 FROM audiences WHERE workspace_id = ? LIMIT 1) a", p.ws.String()).Scan(&has).Error; err != nil {
		return fmt.Errorf("audiences of %s: %w", p.ws, err)
	}
	if has == 0 {
		return nil
	}
	rows := make([][]any, 0, len(marks))
	for _, k := range slices.Sorted(maps.Keys(marks)) {
		rows = append(rows, []any{p.ws.String(), k, marks[k]})
	}
	return p.insertRows("INSERT INTO audience_dirty (workspace_id, profile_key, message_id)", "", rows)
}

type dirtyRow struct {
	ID         int64
	ProfileKey string
	MessageID  string
}

// TakeDirty reads up to limit profiles marked by the profile follower and
// deletes exactly the marks it read: a mark written meanwhile stays for
// the next call. It answers each profile once, with the messageId of its
// newest mark that names one.
func (a *AudienceTx) TakeDirty(limit int) (map[string]string, error) {
	var rows []dirtyRow
	if err := a.tx.Raw("SELECT id, profile_key, message_id FROM audience_dirty WHERE workspace_id = ? ORDER BY id LIMIT ?", a.ws.String(), limit).
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read profiles to re-evaluate: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, 0, len(rows))
	marks := make(map[string]string, len(rows))
	for _, r := range rows {
		ids = append(ids, fmt.Sprint(r.ID))
		if r.MessageID != "" || marks[r.ProfileKey] == "" {
			marks[r.ProfileKey] = r.MessageID
		}
	}
	err := chunks(ids, func(part []string) error {
		return a.tx.Exec("DELETE FROM audience_dirty WHERE id IN ("+placeholders(len(part))+")", strArgs(nil, part)...).Error
	})
	if err != nil {
		return nil, fmt.Errorf("take profiles to re-evaluate: %w", err)
	}
	return marks, nil
}

// EraseAudienceData removes every trace of erased profiles and identities
// from the audience tables (memberships, history, leaf states, timers), in
// the erasure's transaction: they leave silently.
func (p *ProfileTx) EraseAudienceData(profileKeys, users, anons []string) error {
	ws := p.ws.String()
	// Profiles an identity had before a merge ("u:<id>", "a:<id>") keep
	// history under those keys: they go too.
	keys := append([]string(nil), profileKeys...)
	for _, u := range users {
		keys = append(keys, "u:"+u)
	}
	for _, a := range anons {
		keys = append(keys, "a:"+a)
	}
	err := chunks(dedupeStrings(keys), func(part []string) error {
		args := strArgs([]any{ws}, part)
		for _, q := range []string{
			"DELETE FROM audience_members WHERE workspace_id = ? AND profile_key IN (",
			"DELETE FROM audience_history WHERE workspace_id = ? AND profile_key IN (",
			"DELETE FROM audience_dirty WHERE workspace_id = ? AND profile_key IN (",
			"DELETE FROM timers WHERE kind = 'audience' AND workspace_id = ? AND key IN (",
		} {
			if err := p.tx.Exec(q+placeholders(len(part))+")", args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("erase audience data: %w", err)
	}
	for kind, values := range map[string][]string{IdentityUser: users, IdentityAnon: anons} {
		err := chunks(dedupeStrings(values), func(part []string) error {
			return p.tx.Exec("DELETE FROM audience_leaf_states WHERE workspace_id = ? AND kind = ? AND value IN ("+placeholders(len(part))+")",
				strArgs([]any{ws, kind}, part)...).Error
		})
		if err != nil {
			return fmt.Errorf("erase audience states: %w", err)
		}
	}
	if len(users) > 0 {
		err := chunks(dedupeStrings(users), func(part []string) error {
			return p.tx.Exec("DELETE FROM audience_history WHERE workspace_id = ? AND user_id IN ("+placeholders(len(part))+")",
				strArgs([]any{ws}, part)...).Error
		})
		if err != nil {
			return fmt.Errorf("erase audience history: %w", err)
		}
	}
	return nil
}
