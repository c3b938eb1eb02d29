package profiles

import (
	"sort"

	"github.com/inlet-dev/inlet/internal/store"
)

// maxAliasComponent bounds how many userIds one alias merge may pull in.
const maxAliasComponent = 10000

// resolveAliasComponent stores the batch's aliases and resolves the whole
// alias component of every new one, and of every userId seen for the first
// time that an alias already named: each userId of it gets its canonical
// userId (roots) and a row saying why, and the component's refusals are
// recorded. Anonymous ids owned by the component's users are added to
// affected, since their profile may move.
func (b *batch) resolveAliasComponent(aliases []store.Alias, affected map[string]bool) (map[string]string, error) {
	seeds := b.newlySeen()
	if len(aliases) == 0 && len(seeds) == 0 {
		return map[string]string{}, nil
	}
	if err := b.tx.AddAliases(aliases); err != nil {
		return nil, err
	}
	for _, a := range aliases {
		seeds = append(seeds, a.PreviousID, a.UserID)
	}
	comp, compAliases, err := b.aliasComponent(seeds)
	if err != nil {
		return nil, err
	}
	if err := b.load(store.IdentityUser, comp); err != nil {
		return nil, err
	}
	res := resolveAliases(comp, compAliases, b.isSeen, b.opts.MaxUserIDs)
	added, err := b.tx.ReplaceMergeRefusals(compAliases, res.refused)
	if err != nil {
		return nil, err
	}
	b.refused = append(b.refused, added...)
	for _, u := range comp {
		row := store.Identity{Kind: store.IdentityUser, Value: u, ProfileKey: userKey(res.roots[u]), Via: "own"}
		if a, ok := res.explain(u); ok {
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
	return res.roots, nil
}

// aliasComponent finds every userId connected to the seed ids through
// stored aliases, and those aliases.
func (b *batch) aliasComponent(seed []string) ([]string, []store.Alias, error) {
	seen := map[string]bool{}
	var frontier []string
	for _, id := range seed {
		if !seen[id] {
			seen[id] = true
			frontier = append(frontier, id)
		}
	}
	byKey := map[string]store.Alias{}
	for len(frontier) > 0 && len(seen) < maxAliasComponent {
		found, err := b.tx.AliasesTouching(frontier)
		if err != nil {
			return nil, nil, err
		}
		frontier = nil
		for _, a := range found {
			byKey[a.Key()] = a
			for _, id := range []string{a.PreviousID, a.UserID} {
				if !seen[id] {
					seen[id] = true
					frontier = append(frontier, id)
				}
			}
		}
	}
	all := make([]store.Alias, 0, len(byKey))
	for _, a := range byKey {
		all = append(all, a)
	}
	return keys(seen), all, nil
}

// aliasResult is how one alias component resolves.
type aliasResult struct {
	roots    map[string]string      // userId → canonical userId
	mergedBy map[string]store.Alias // userId → the call that put it under another root
	refused  []store.MergeRefusal
}

// aliasBefore is the order aliases are applied in: (timestamp, messageId),
// then the rest of the call, so that equal stamps still give one order.
func aliasBefore(x, y store.Alias) bool {
	if !x.TS.Equal(y.TS) || x.MessageID != y.MessageID {
		return store.Before(x.TS, x.MessageID, y.TS, y.MessageID)
	}
	return x.Key() < y.Key()
}

// resolveAliases merges userIds in aliasBefore order: alias {previousId,
// userId} puts previousId's set under userId's root, unless they already
// share one, or the merge is refused:
//
//   - untrusted: the call came from an untrusted source and both sets hold
//     a userId that events carry (seen), i.e. two known users. From a
//     client key an alias so still merges a set no event names as a user
//     (an anonymous id, a previousId only ever aliased) into a user.
//   - max_user_ids: the merged set would hold more than maxUsers seen userIds.
//
// Every input is a stored fact (the set of aliases with their trust, which
// userIds events carry), so the result does not depend on the order events
// arrived in, and a rebuild refuses the same calls.
func resolveAliases(users []string, aliases []store.Alias, seen func(string) bool, maxUsers int) aliasResult {
	sort.Slice(aliases, func(i, j int) bool { return aliasBefore(aliases[i], aliases[j]) })
	parent := map[string]string{}
	known := map[string]int{} // root → seen userIds in its set
	add := func(u string) {
		if _, ok := parent[u]; !ok {
			parent[u] = u
			if seen(u) {
				known[u] = 1
			}
		}
	}
	for _, u := range users {
		add(u)
	}
	find := func(x string) string {
		for parent[x] != x {
			x = parent[x]
		}
		return x
	}
	res := aliasResult{mergedBy: map[string]store.Alias{}}
	for _, a := range aliases {
		add(a.PreviousID)
		add(a.UserID)
		rp, ru := find(a.PreviousID), find(a.UserID)
		switch {
		case rp == ru:
			continue
		case !a.Trusted && known[rp] > 0 && known[ru] > 0:
			res.refused = append(res.refused, store.MergeRefusal{Alias: a, Reason: store.RefusedUntrusted})
			continue
		case maxUsers > 0 && known[rp]+known[ru] > maxUsers:
			res.refused = append(res.refused, store.MergeRefusal{Alias: a, Reason: store.RefusedMaxUserIDs})
			continue
		}
		parent[rp] = ru
		known[ru] += known[rp]
		res.mergedBy[rp] = a
	}
	res.roots = make(map[string]string, len(parent))
	for u := range parent {
		res.roots[u] = find(u)
	}
	// Keep the parent chain for explanations.
	for u, p := range parent {
		if p != u {
			if _, ok := res.mergedBy[u]; !ok {
				res.mergedBy[u] = res.mergedBy[p]
			}
		}
	}
	return res
}

// explain is the alias call that put u under another root.
func (r aliasResult) explain(u string) (store.Alias, bool) {
	if r.roots[u] == u {
		return store.Alias{}, false
	}
	a, ok := r.mergedBy[u]
	return a, ok
}
