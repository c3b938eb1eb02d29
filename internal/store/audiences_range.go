package store

import "fmt"

// ProfilesPage reads up to limit profiles after a key, in key order: a
// build's or a preview's page, read by range in one statement rather than
// by a list of keys.
func (a *AudienceTx) ProfilesPage(after string, limit int) ([]ProfileRow, error) {
	rows, err := profiles(a.tx, "SELECT "+profileCols+" FROM profiles WHERE workspace_id = ? AND profile_key > ? ORDER BY profile_key LIMIT ?",
		a.ws.String(), after, limit)
	if err != nil {
		return nil, fmt.Errorf("page profiles of %s: %w", a.ws, err)
	}
	return rows, nil
}

// LeafStatesInRange reads the leaf states of every identity of the
// profiles whose keys are in (after, last].
func (a *AudienceTx) LeafStatesInRange(after, last string) ([]ProfileLeafState, error) {
	var rows []ProfileLeafState
	if err := a.tx.Raw(`SELECT s.leaf_id, s.kind, s.value, s.state, i.profile_key FROM profile_identities i
		JOIN audience_leaf_states s ON s.workspace_id = i.workspace_id AND s.kind = i.kind AND s.value = i.value
		WHERE i.workspace_id = ? AND i.profile_key > ? AND i.profile_key <= ?`, a.ws.String(), after, last).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read leaf states of a page of profiles: %w", err)
	}
	return rows, nil
}

// ProfilesWithLeafState lists the profiles whose identities' states of a
// leaf hold at least minCount counted events (at least 1 is asked for as
// 1): with sinceMS > 0, times at or after sinceMS (Unix ms) summed over the
// identities; else their counts. A preview's candidates for a leaf whose
// count needs that many.
func (a *AudienceTx) ProfilesWithLeafState(leafID string, sinceMS, minCount int64) ([]string, error) {
	q := `SELECT i.profile_key FROM audience_leaf_states s
		JOIN profile_identities i ON i.workspace_id = s.workspace_id AND i.kind = s.kind AND i.value = s.value
		WHERE s.workspace_id = ? AND s.leaf_id = ?`
	args := []any{a.ws.String(), leafID}
	pg := a.s.dialect == Postgres
	switch {
	case minCount <= 1 && sinceMS > 0:
		// The newest time alone decides.
		if pg {
			q += " AND (s.state::json->'s'->>0)::bigint >= ?"
		} else {
			q += " AND json_extract(s.state, '$.s[0]') >= ?"
		}
		args = append(args, sinceMS)
		q += " GROUP BY i.profile_key"
	case minCount <= 1:
		q += " GROUP BY i.profile_key"
	case sinceMS > 0:
		if pg {
			q += " GROUP BY i.profile_key HAVING sum((SELECT count(*) FROM json_array_elements_text(s.state::json->'s') t WHERE t::bigint >= ?)) >= ?"
		} else {
			q += " GROUP BY i.profile_key HAVING sum((SELECT count(*) FROM json_each(s.state, '$.s') t WHERE t.value >= ?)) >= ?"
		}
		args = append(args, sinceMS, minCount)
	default:
		if pg {
			q += " GROUP BY i.profile_key HAVING sum((s.state::json->>'c')::bigint) >= ?"
		} else {
			q += " GROUP BY i.profile_key HAVING sum(json_extract(s.state, '$.c')) >= ?"
		}
		args = append(args, minCount)
	}
	var keys []string
	if err := a.tx.Raw(q, args...).Scan(&keys).Error; err != nil {
		return nil, fmt.Errorf("profiles with a state of leaf %s: %w", leafID, err)
	}
	return keys, nil
}

// ProfilesWithTrait lists the profiles whose searchable trait key has the
// text value (profile_trait_values: scalars up to 256 characters).
func (a *AudienceTx) ProfilesWithTrait(key, value string) ([]string, error) {
	var keys []string
	if err := a.tx.Raw("SELECT profile_key FROM profile_trait_values WHERE workspace_id = ? AND key = ? AND value = ?",
		a.ws.String(), key, value).Scan(&keys).Error; err != nil {
		return nil, fmt.Errorf("profiles with trait %q: %w", key, err)
	}
	return keys, nil
}
