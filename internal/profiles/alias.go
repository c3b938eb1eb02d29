package profiles

import (
	"sort"

	"github.com/inlet-dev/inlet/internal/store"
)

// maxAliasComponent bounds how many userIds one alias merge may pull in.
const maxAliasComponent = 10000

// resolveAliasComponent stores the batch's aliases and resolves the whole
// alias component of every new one: each userId of it gets its canonical
// userId (roots) and a row saying why. Anonymous ids owned by the
// component's users are added to affected, since their profile may move.
func (b *batch) resolveAliasComponent(aliases []store.Alias, affected map[string]bool) (map[string]string, error) {
	if len(aliases) == 0 {
		return map[string]string{}, nil
	}
	if err := b.tx.AddAliases(aliases); err != nil {
		return nil, err
	}
	comp, compAliases, err := b.aliasComponent(aliases)
	if err != nil {
		return nil, err
	}
	roots, mergedBy := resolveAliases(comp, compAliases)
	if err := b.load(store.IdentityUser, comp); err != nil {
		return nil, err
	}
	for _, u := range comp {
		row := store.Identity{Kind: store.IdentityUser, Value: u, ProfileKey: userKey(roots[u]), Via: "own"}
		if a, ok := explainAlias(u, roots, mergedBy); ok {
			ts := a.TS
			row.Via, row.ViaTS, row.ViaMessage = "alias", &ts, a.MessageID
		}
		b.set(idKey{store.IdentityUser, u}, row)
	}
	owned, err := b.tx.IdentitiesBy(store.ByOwner, comp)
	if err != nil {
		return nil, err
	}
	for _, row := range owned {
		b.remember(row)
		affected[row.Value] = true
	}
	return roots, nil
}

// aliasComponent finds every userId connected to the new aliases through
// stored aliases, and those aliases.
func (b *batch) aliasComponent(seed []store.Alias) ([]string, []store.Alias, error) {
	seen := map[string]bool{}
	var frontier []string
	for _, a := range seed {
		for _, id := range []string{a.PreviousID, a.UserID} {
			if !seen[id] {
				seen[id] = true
				frontier = append(frontier, id)
			}
		}
	}
	byID := map[string]store.Alias{}
	for len(frontier) > 0 && len(seen) < maxAliasComponent {
		found, err := b.tx.AliasesTouching(frontier)
		if err != nil {
			return nil, nil, err
		}
		frontier = nil
		for _, a := range found {
			byID[a.MessageID] = a
			for _, id := range []string{a.PreviousID, a.UserID} {
				if !seen[id] {
					seen[id] = true
					frontier = append(frontier, id)
				}
			}
		}
	}
	all := make([]store.Alias, 0, len(byID))
	for _, a := range byID {
		all = append(all, a)
	}
	return keys(seen), all, nil
}

// resolveAliases merges userIds in (timestamp, messageId) order: alias
// {previousId, userId} puts previousId's set under userId's root, unless they
// already share one. The result depends on the set of aliases only.
func resolveAliases(users []string, aliases []store.Alias) (map[string]string, map[string]store.Alias) {
	sort.Slice(aliases, func(i, j int) bool {
		return store.Before(aliases[i].TS, aliases[i].MessageID, aliases[j].TS, aliases[j].MessageID)
	})
	parent := map[string]string{}
	for _, u := range users {
		parent[u] = u
	}
	var find func(string) string
	find = func(x string) string {
		for parent[x] != x {
			x = parent[x]
		}
		return x
	}
	mergedBy := map[string]store.Alias{}
	for _, a := range aliases {
		if _, ok := parent[a.PreviousID]; !ok {
			parent[a.PreviousID] = a.PreviousID
		}
		if _, ok := parent[a.UserID]; !ok {
			parent[a.UserID] = a.UserID
		}
		rp, ru := find(a.PreviousID), find(a.UserID)
		if rp == ru {
			continue
		}
		parent[rp] = ru
		mergedBy[rp] = a
	}
	roots := make(map[string]string, len(parent))
	for u := range parent {
		roots[u] = find(u)
	}
	// Keep the parent chain for explanations.
	for u, p := range parent {
		if p != u {
			if _, ok := mergedBy[u]; !ok {
				mergedBy[u] = mergedBy[p]
			}
		}
	}
	return roots, mergedBy
}

// explainAlias is the alias call that put u under another root.
func explainAlias(u string, roots map[string]string, mergedBy map[string]store.Alias) (store.Alias, bool) {
	if roots[u] == u {
		return store.Alias{}, false
	}
	a, ok := mergedBy[u]
	return a, ok
}
