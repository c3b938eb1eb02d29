package profiles

import (
	"sort"
	"strings"

	"github.com/inlet-dev/inlet/internal/store"
)

// identities runs phase 1: store the batch's links and aliases, resolve
// every identity they can move, give ids seen for the first time their own
// rows, and move documents between the profiles that changed.
func (b *batch) identities(users, anons []string, links map[[2]string]store.Link, aliases []store.Alias) error {
	if err := b.loadCarried(users, anons, links); err != nil {
		return err
	}
	first, affected, err := b.storeLinks(links)
	if err != nil {
		return err
	}
	roots, err := b.resolveAliasComponent(aliases, affected)
	if err != nil {
		return err
	}
	owners, err := b.resolveAnonOwners(keys(affected), first, b.rootOf(roots))
	if err != nil {
		return err
	}
	b.addNewIdentities(append(users, owners...), anons)
	b.markSeen()
	return b.transition()
}

// loadCarried reads the stored rows of every id the batch carries.
func (b *batch) loadCarried(users, anons []string, links map[[2]string]store.Link) error {
	linkAnons := make([]string, 0, len(links))
	for k := range links {
		linkAnons = append(linkAnons, k[0])
	}
	sort.Strings(linkAnons)
	if err := b.load(store.IdentityUser, users); err != nil {
		return err
	}
	return b.load(store.IdentityAnon, append(anons, dedupe(linkAnons)...))
}

// storeLinks stores every link, keeping the earliest per pair (the upsert
// compares). An anonymous id needs resolving again only when a link is
// earlier than the one that owns it now (its row keeps that link), or it had
// none: those are returned as affected, with the batch's earliest link of each.
func (b *batch) storeLinks(links map[[2]string]store.Link) (first map[string]store.Link, affected map[string]bool, err error) {
	put := make([]store.Link, 0, len(links))
	affected = map[string]bool{}
	first = map[string]store.Link{}
	for _, l := range links {
		put = append(put, l)
		row, ok := b.rows[idKey{store.IdentityAnon, l.AnonymousID}]
		if ok && row.OwnerUser != "" && !store.Before(l.TS, l.MessageID, *row.ViaTS, row.ViaMessage) {
			continue
		}
		affected[l.AnonymousID] = true
		if f, seen := first[l.AnonymousID]; !seen || store.Before(l.TS, l.MessageID, f.TS, f.MessageID) {
			first[l.AnonymousID] = l
		}
	}
	sort.Slice(put, func(i, j int) bool {
		return put[i].AnonymousID+"\x00"+put[i].UserID < put[j].AnonymousID+"\x00"+put[j].UserID
	})
	return first, affected, b.tx.PutLinks(put)
}

// rootOf gives a userId's canonical userId: from the aliases just resolved,
// else from its row.
func (b *batch) rootOf(roots map[string]string) func(string) string {
	return func(u string) string {
		if r, ok := roots[u]; ok {
			return r
		}
		if row, ok := b.rows[idKey{store.IdentityUser, u}]; ok {
			return strings.TrimPrefix(row.ProfileKey, "u:")
		}
		return u
	}
}

// resolveAnonOwners gives each affected anonymous id to the userId of its
// earliest link (the earlier of the stored owner's, kept on the row, and
// this batch's), then applies the cap. It returns the owning userIds.
func (b *batch) resolveAnonOwners(anonList []string, first map[string]store.Link, rootOf func(string) string) ([]string, error) {
	if err := b.load(store.IdentityAnon, anonList); err != nil {
		return nil, err
	}
	for _, a := range anonList {
		row, ok := b.rows[idKey{store.IdentityAnon, a}]
		if !ok || row.OwnerUser == "" {
			continue
		}
		stored := store.Link{AnonymousID: a, UserID: row.OwnerUser, TS: *row.ViaTS, MessageID: row.ViaMessage}
		if f, seen := first[a]; !seen || store.Before(stored.TS, stored.MessageID, f.TS, f.MessageID) {
			first[a] = stored
		}
	}
	// Users that own anonymous ids need rows (and their roots loaded).
	var owners []string
	for _, l := range first {
		owners = append(owners, l.UserID)
	}
	sort.Strings(owners)
	owners = dedupe(owners)
	if err := b.load(store.IdentityUser, owners); err != nil {
		return nil, err
	}
	candidates := map[string]bool{}
	for _, a := range anonList {
		k := idKey{store.IdentityAnon, a}
		if o, ok := b.orig[k]; ok && o.Candidate != "" {
			candidates[o.Candidate] = true
		}
		l, ok := first[a]
		if !ok {
			continue // no link left (cannot happen while links only grow)
		}
		ts := l.TS
		cand := userKey(rootOf(l.UserID))
		b.set(k, store.Identity{Kind: store.IdentityAnon, Value: a, ProfileKey: cand, Candidate: cand,
			OwnerUser: l.UserID, Via: "link", ViaTS: &ts, ViaMessage: l.MessageID})
		candidates[cand] = true
	}
	// An anonymous id seen for the first time may now take a place under
	// its candidate's cap (see applyCap).
	for a := range b.seenAnons {
		if o, ok := b.orig[idKey{store.IdentityAnon, a}]; ok && !o.Seen && o.Candidate != "" {
			candidates[o.Candidate] = true
		}
	}
	return owners, b.applyCap(keys(candidates))
}

// addNewIdentities gives ids seen for the first time with no link their own
// profiles.
func (b *batch) addNewIdentities(users, anons []string) {
	for _, u := range users {
		k := idKey{store.IdentityUser, u}
		if _, ok := b.rows[k]; !ok {
			b.set(k, store.Identity{Kind: store.IdentityUser, Value: u, ProfileKey: userKey(u), Via: "own"})
		}
	}
	for _, a := range anons {
		k := idKey{store.IdentityAnon, a}
		if _, ok := b.rows[k]; !ok {
			b.set(k, store.Identity{Kind: store.IdentityAnon, Value: a, ProfileKey: anonKey(a), Via: "own"})
		}
	}
}

// markSeen records on their rows the ids this batch's events carry in their
// own role.
func (b *batch) markSeen() {
	for kind, ids := range map[string]map[string]bool{store.IdentityUser: b.seenUsers, store.IdentityAnon: b.seenAnons} {
		for v := range ids {
			k := idKey{kind, v}
			if row, ok := b.rows[k]; ok && !row.Seen {
				row.Seen = true
				b.rows[k] = row
				b.changed[k] = true
			}
		}
	}
}

// isSeen says whether some stored or batch event carries u as its userId.
func (b *batch) isSeen(u string) bool {
	return b.seenUsers[u] || b.rows[idKey{store.IdentityUser, u}].Seen
}

// newlySeen are the userIds this batch carries for the first time whose
// rows exist already (an alias named them as previousId): whether their
// aliases merge may change now, so their components are resolved again.
func (b *batch) newlySeen() []string {
	var out []string
	for u := range b.seenUsers {
		if row, ok := b.orig[idKey{store.IdentityUser, u}]; ok && !row.Seen {
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// load reads the stored rows of identities not loaded yet.
func (b *batch) load(kind string, values []string) error {
	var need []string
	for _, v := range values {
		if _, ok := b.rows[idKey{kind, v}]; !ok {
			need = append(need, v)
		}
	}
	got, err := b.tx.Identities(kind, need)
	if err != nil {
		return err
	}
	for _, row := range got {
		b.remember(row)
	}
	return nil
}

// remember keeps a row read from the store, unless this batch already has
// a newer value for it.
func (b *batch) remember(row store.Identity) {
	k := idKey{row.Kind, row.Value}
	if _, ok := b.orig[k]; !ok {
		b.orig[k] = row
	}
	if _, ok := b.rows[k]; !ok {
		b.rows[k] = row
	}
}

// set records a computed identity row, to be written if it differs. Once
// seen, an identity stays seen (its events are stored).
func (b *batch) set(k idKey, row store.Identity) {
	cur, ok := b.rows[k]
	if ok {
		row.Seen = row.Seen || cur.Seen
	}
	if ok && sameIdentity(cur, row) {
		return
	}
	b.rows[k] = row
	b.changed[k] = true
}

func sameIdentity(a, b store.Identity) bool {
	if (a.ViaTS == nil) != (b.ViaTS == nil) || (a.ViaTS != nil && !a.ViaTS.Equal(*b.ViaTS)) {
		return false
	}
	a.ViaTS, b.ViaTS = nil, nil
	return a == b
}

// applyCap lets each candidate profile keep at most MaxAnonymousIDs
// anonymous ids: those events carried as anonymousId first, then those an
// alias's previousId named only, each the earliest linked first; the others
// stay profiles of their own. Ids no event carried go last so that aliases
// of made-up ids (thousands from a public key) cannot push a real device
// out of its user's profile.
func (b *batch) applyCap(cands []string) error {
	if len(cands) == 0 {
		return nil
	}
	stored, err := b.tx.IdentitiesBy(store.ByCandidate, cands)
	if err != nil {
		return err
	}
	for _, row := range stored {
		b.remember(row)
	}
	group := map[string][]store.Identity{}
	for _, row := range b.rows {
		if row.Kind == store.IdentityAnon && row.Candidate != "" {
			group[row.Candidate] = append(group[row.Candidate], row)
		}
	}
	for _, c := range cands {
		members := group[c]
		sort.Slice(members, func(i, j int) bool {
			si, sj := b.anonSeen(members[i]), b.anonSeen(members[j])
			if si != sj {
				return si
			}
			return linkedBefore(members[i], members[j])
		})
		for i, row := range members {
			want := row
			if i < b.opts.MaxAnonymousIDs {
				want.ProfileKey, want.Via = c, "link"
			} else {
				want.ProfileKey, want.Via = anonKey(row.Value), "capped"
			}
			b.set(idKey{row.Kind, row.Value}, want)
		}
	}
	return nil
}

// anonSeen says whether some stored or batch event carries row's id as
// anonymousId.
func (b *batch) anonSeen(row store.Identity) bool { return row.Seen || b.seenAnons[row.Value] }

// linkedBefore orders anonymous ids by their owning link, then by value.
func linkedBefore(x, y store.Identity) bool {
	if !x.ViaTS.Equal(*y.ViaTS) {
		return x.ViaTS.Before(*y.ViaTS)
	}
	if x.ViaMessage != y.ViaMessage {
		return x.ViaMessage < y.ViaMessage
	}
	return x.Value < y.Value
}
