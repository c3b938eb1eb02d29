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
