package profiles

import (
	"fmt"
	"sort"

	"github.com/inlet-dev/inlet/internal/store"
)

// transition moves documents between profiles after identities changed: a
// profile all of whose identities land in one profile is merged into it; a
// profile that is split makes every profile it feeds be recomputed.
func (b *batch) transition() error {
	old := b.orig
	touched := map[string]bool{}
	for k := range b.changed {
		o, had := old[k]
		if had && o.ProfileKey != b.rows[k].ProfileKey {
			touched[o.ProfileKey] = true
			touched[b.rows[k].ProfileKey] = true
		}
	}
	if len(touched) == 0 {
		return nil
	}
	members, err := b.tx.IdentitiesBy(store.ByProfile, keys(touched))
	if err != nil {
		return err
	}
	// Where each touched old profile's identities go now (members holds
	// every stored identity of every touched profile).
	dest := map[string]map[string]bool{}
	final := map[string][]idKey{} // new profile → its identities (among touched)
	note := func(oldKey string, k idKey) {
		if dest[oldKey] == nil {
			dest[oldKey] = map[string]bool{}
		}
		dest[oldKey][b.rows[k].ProfileKey] = true
	}
	for _, row := range members {
		b.remember(row)
		note(row.ProfileKey, idKey{row.Kind, row.Value})
	}
	for k, row := range b.rows {
		if touched[row.ProfileKey] {
			final[row.ProfileKey] = append(final[row.ProfileKey], k)
		}
	}
	recompute := map[string]bool{}
	for _, to := range dest {
		if len(to) > 1 {
			for n := range to {
				recompute[n] = true
			}
		}
	}
	oldDocs, err := b.tx.Profiles(keys(dest))
	if err != nil {
		return err
	}
	for _, o := range keys(dest) {
		if _, still := final[o]; !still {
			b.gone[o] = true
		}
	}
	for _, n := range keys(final) {
		delete(b.gone, n)
		d := newDoc()
		d.traitsChanged = true
		if recompute[n] {
			if err := b.recompute(d, final[n]); err != nil {
				return err
			}
		} else {
			for o, to := range dest {
				if !to[n] {
					continue
				}
				if row, ok := oldDocs[o]; ok {
					od, err := decodeDoc(row.Doc)
					if err != nil {
						return fmt.Errorf("profile %q: %w", o, err)
					}
					d.merge(od)
				}
			}
		}
		b.docs[n] = d
	}
	return nil
}

// recompute rebuilds a document from the stored events of ids, up to the
// cursor: each event counted once, for its primary identity.
func (b *batch) recompute(d *Doc, ids []idKey) error {
	var users, anons []string
	mine := map[idKey]bool{}
	for _, k := range ids {
		mine[k] = true
		if k.kind == store.IdentityUser {
			users = append(users, k.value)
		} else {
			anons = append(anons, k.value)
		}
	}
	sort.Strings(users)
	sort.Strings(anons)
	seen := map[int64]bool{} // an event with both ids comes from both branches
	return b.tx.EventsOfIdentities(users, anons, b.upTo, func(e store.FeedEvent) error {
		p, ok := primary(&e)
		if !ok || !mine[p] || b.suppressed(&e) || seen[e.Cursor.ID] {
			return nil
		}
		seen[e.Cursor.ID] = true
		d.apply(&e, parseRaw(e.Raw))
		return nil
	})
}
