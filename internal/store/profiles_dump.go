package store

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/google/uuid"
)

// ProfileDump is every profile row of a workspace in a fixed order: what
// `inlet profiles rebuild --check` and the tests compare to prove the
// incremental path and a rebuild agree.
type ProfileDump struct {
	Profiles   []ProfileRow
	Identities []Identity
	Groups     map[string]string
	Refused    []RefusedID
	Merges     []MergeRefusal // refused alias merges, by Alias.Key
}

// DumpProfiles reads a workspace's profile tables whole. It is for
// verification on small and medium workspaces, not for serving.
func (s *Store) DumpProfiles(ctx context.Context, ws uuid.UUID) (ProfileDump, error) {
	var d ProfileDump
	rows, err := s.db.WithContext(ctx).Raw("SELECT "+profileCols+" FROM profiles WHERE workspace_id = ? ORDER BY profile_key", ws.String()).Rows()
	if err != nil {
		return d, fmt.Errorf("dump profiles: %w", err)
	}
	for rows.Next() {
		pr, err := scanProfile(rows)
		if err != nil {
			rows.Close()
			return d, fmt.Errorf("dump profile: %w", err)
		}
		d.Profiles = append(d.Profiles, pr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return d, err
	}
	tv := map[string][]TraitValue{}
	var traitRows []struct{ ProfileKey, Key, Value string }
	if err := all(s.db.WithContext(ctx), &traitRows, "SELECT profile_key, key, value FROM profile_trait_values WHERE workspace_id = ?", ws.String()); err != nil {
		return d, fmt.Errorf("dump trait values: %w", err)
	}
	for _, r := range traitRows {
		tv[r.ProfileKey] = append(tv[r.ProfileKey], TraitValue{Key: r.Key, Value: r.Value})
	}
	for i := range d.Profiles {
		vals := tv[d.Profiles[i].Key]
		sort.Slice(vals, func(a, b int) bool { return vals[a].Key+"\x00"+vals[a].Value < vals[b].Key+"\x00"+vals[b].Value })
		d.Profiles[i].TraitValues = vals
	}
	rows, err = s.db.WithContext(ctx).Raw("SELECT "+identityCols+" FROM profile_identities WHERE workspace_id = ? ORDER BY kind, value", ws.String()).Rows()
	if d.Identities, err = scanIdentities(err, rows); err != nil {
		return d, err
	}
	d.Groups = map[string]string{}
	var groupRows []struct{ GroupID, Doc string }
	if err := all(s.db.WithContext(ctx), &groupRows, "SELECT group_id, doc FROM profile_groups WHERE workspace_id = ?", ws.String()); err != nil {
		return d, fmt.Errorf("dump groups: %w", err)
	}
	for _, r := range groupRows {
		d.Groups[r.GroupID] = r.Doc
	}
	if d.Refused, err = s.RefusedIDs(ctx, ws, 1<<30); err != nil {
		return d, err
	}
	var rr []refusalRow
	if err := all(s.db.WithContext(ctx), &rr, "SELECT "+refusalCols+" FROM profile_merge_refusals WHERE workspace_id = ?", ws.String()); err != nil {
		return d, fmt.Errorf("dump merge refusals: %w", err)
	}
	for _, r := range rr {
		d.Merges = append(d.Merges, r.refusal())
	}
	sort.Slice(d.Merges, func(i, j int) bool { return d.Merges[i].Key() < d.Merges[j].Key() })
	sort.Slice(d.Refused, func(i, j int) bool {
		return strings.Compare(d.Refused[i].Kind+"\x00"+d.Refused[i].Value, d.Refused[j].Kind+"\x00"+d.Refused[j].Value) < 0
	})
	return d, nil
}
