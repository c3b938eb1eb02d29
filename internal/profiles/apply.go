package profiles

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/inlet-dev/inlet/internal/store"
)

// idKey names one identity.
type idKey struct{ kind, value string }

// batch applies one batch of feed events to a workspace's profiles inside a
// ProfileTx. It works in two phases:
//
//  1. identities: new links and aliases are stored, and every identity whose
//     profile could change is resolved again from the stored links and
//     aliases (a pure function of them). Profiles that only absorb whole
//     other profiles get their documents merged; a profile that loses some
//     of its identities (a late event re-linked an anonymous id, a late alias
//     reordered a merge) is recomputed from its stored events up to the
//     cursor, because "latest wins" cannot be subtracted.
//  2. aggregates: each event is added to the document of the profile of its
//     primary identity (its userId if valid, else its anonymousId).
type batch struct {
	tx      *store.ProfileTx
	opts    Options
	upTo    store.FeedCursor // events up to here are already in the documents
	suppr   func(kind, id string) bool
	rows    map[idKey]store.Identity // identities loaded or computed
	orig    map[idKey]store.Identity // identities as stored before this batch
	changed map[idKey]bool           // rows to write
	docs    map[string]*Doc          // documents of profiles that will be written
	gone    map[string]bool          // profiles to delete
}

func newBatch(tx *store.ProfileTx, opts Options, suppr func(kind, id string) bool) *batch {
	return &batch{tx: tx, opts: opts, upTo: tx.Cursor(), suppr: suppr,
		rows: map[idKey]store.Identity{}, orig: map[idKey]store.Identity{}, changed: map[idKey]bool{}, docs: map[string]*Doc{}, gone: map[string]bool{}}
}

// primary is the identity an event counts for, ok false when it has none.
func primary(e *store.FeedEvent) (idKey, bool) {
	if validID(e.UserID) {
		return idKey{store.IdentityUser, e.UserID}, true
	}
	if validID(e.AnonymousID) {
		return idKey{store.IdentityAnon, e.AnonymousID}, true
	}
	return idKey{}, false
}

func (b *batch) suppressed(e *store.FeedEvent) bool {
	if b.suppr == nil {
		return false
	}
	return suppressedEvent(b.suppr, e.UserID, e.AnonymousID, e.PreviousID)
}

// suppressedAnon reports a kept event's anonymous id that an erasure
// suppressed (a shared device): the event stays its user's, but the id does
// not become an identity again.
func (b *batch) suppressedAnon(e *store.FeedEvent) bool {
	return b.suppr != nil && e.AnonymousID != "" && b.suppr(store.IdentityAnon, e.AnonymousID)
}

// run applies events (already committed, after the cursor) and moves the
// cursor past them.
func (b *batch) run(events []store.FeedEvent) error {
	if len(events) == 0 {
		return nil
	}
	var (
		live     []*store.FeedEvent
		dropped  []int64
		links    = map[[2]string]store.Link{}
		aliases  []store.Alias
		refused  = map[idKey]int64{}
		users    = map[string]bool{}
		anons    = map[string]bool{}
		groupIDs = map[string]bool{}
	)
	for i := range events {
		e := &events[i]
		if b.suppressed(e) {
			dropped = append(dropped, e.Cursor.ID)
			continue
		}
		live = append(live, e)
		uok, aok := validID(e.UserID), validID(e.AnonymousID)
		if e.UserID != "" && !uok {
			refused[idKey{store.IdentityUser, e.UserID}]++
		}
		if e.AnonymousID != "" && !aok {
			refused[idKey{store.IdentityAnon, e.AnonymousID}]++
		}
		if aok && b.suppressedAnon(e) {
			aok = false
		}
		ts := eventTime(e)
		addLink := func(a, u string) {
			k := [2]string{a, u}
			if old, ok := links[k]; !ok || store.Before(ts, e.MessageID, old.TS, old.MessageID) {
				links[k] = store.Link{AnonymousID: a, UserID: u, TS: ts, MessageID: e.MessageID}
			}
		}
		if uok {
			users[e.UserID] = true
		} else if aok {
			anons[e.AnonymousID] = true
		}
		if uok && aok {
			addLink(e.AnonymousID, e.UserID)
		}
		if e.Type == "alias" && uok && validID(e.PreviousID) && e.PreviousID != e.UserID {
			// Segment's alias does not say whether previousId was a userId or
			// an anonymousId, so it is both: the profile holding either merges.
			aliases = append(aliases, store.Alias{MessageID: e.MessageID, PreviousID: e.PreviousID, UserID: e.UserID, TS: ts})
			addLink(e.PreviousID, e.UserID)
		} else if e.Type == "alias" && e.PreviousID != "" && !validID(e.PreviousID) {
			refused[idKey{store.IdentityUser, e.PreviousID}]++
		}
		if e.Type == "group" && e.GroupID != "" {
			groupIDs[e.GroupID] = true
		}
	}
	if err := b.identities(keys(users), keys(anons), links, aliases); err != nil {
		return err
	}
	if err := b.aggregate(live, keys(groupIDs)); err != nil {
		return err
	}
	if len(refused) > 0 {
		rs := make([]store.RefusedID, 0, len(refused))
		for k, n := range refused {
			rs = append(rs, store.RefusedID{Kind: k.kind, Value: truncate(k.value, 300), Events: n})
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].Kind+rs[i].Value < rs[j].Kind+rs[j].Value })
		if err := b.tx.AddRefused(mergeRefused(rs)); err != nil {
			return err
		}
	}
	if len(dropped) > 0 {
		// Stored on another instance before it learnt of the suppression.
		if err := b.tx.DeleteEventsByID(dropped); err != nil {
			return err
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	return b.tx.SetCursor(events[len(events)-1].Cursor)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8ValidTail(s) {
		s = s[:len(s)-1]
	}
	return s
}

func utf8ValidTail(s string) bool { return strings.ToValidUTF8(s, "\x00") == s }

// mergeRefused adds up entries that truncation made equal.
func mergeRefused(rs []store.RefusedID) []store.RefusedID {
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].Kind == r.Kind && out[n-1].Value == r.Value {
			out[n-1].Events += r.Events
			continue
		}
		out = append(out, r)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
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

// maxAliasComponent bounds how many userIds one alias merge may pull in.
const maxAliasComponent = 10000

// identities runs phase 1.
func (b *batch) identities(users, anons []string, links map[[2]string]store.Link, aliases []store.Alias) error {
	var linkAnons []string
	for k := range links {
		linkAnons = append(linkAnons, k[0])
	}
	sort.Strings(linkAnons)
	linkAnons = dedupe(linkAnons)
	if err := b.load(store.IdentityUser, users); err != nil {
		return err
	}
	if err := b.load(store.IdentityAnon, append(anons, linkAnons...)); err != nil {
		return err
	}
	// Store every link, keeping the earliest per pair (the upsert compares).
	// An anonymous id needs resolving again only when a link is earlier than
	// the one that owns it now (its row keeps that link), or it had none.
	put := make([]store.Link, 0, len(links))
	affectedAnon := map[string]bool{}
	first := map[string]store.Link{}
	for _, l := range links {
		put = append(put, l)
		row, ok := b.rows[idKey{store.IdentityAnon, l.AnonymousID}]
		if ok && row.OwnerUser != "" && !store.Before(l.TS, l.MessageID, *row.ViaTS, row.ViaMessage) {
			continue
		}
		affectedAnon[l.AnonymousID] = true
		if f, seen := first[l.AnonymousID]; !seen || store.Before(l.TS, l.MessageID, f.TS, f.MessageID) {
			first[l.AnonymousID] = l
		}
	}
	sort.Slice(put, func(i, j int) bool {
		return put[i].AnonymousID+"\x00"+put[i].UserID < put[j].AnonymousID+"\x00"+put[j].UserID
	})
	if err := b.tx.PutLinks(put); err != nil {
		return err
	}

	// Aliases: resolve the whole alias component of every new one.
	roots := map[string]string{} // userId → canonical userId, for the component
	mergedBy := map[string]store.Alias{}
	if len(aliases) > 0 {
		if err := b.tx.AddAliases(aliases); err != nil {
			return err
		}
		comp, compAliases, err := b.aliasComponent(aliases)
		if err != nil {
			return err
		}
		roots, mergedBy = resolveAliases(comp, compAliases)
		if err := b.load(store.IdentityUser, comp); err != nil {
			return err
		}
		for _, u := range comp {
			k := idKey{store.IdentityUser, u}
			row := store.Identity{Kind: store.IdentityUser, Value: u, ProfileKey: userKey(roots[u]), Via: "own"}
			if a, ok := explainAlias(u, roots, mergedBy); ok {
				ts := a.TS
				row.Via, row.ViaTS, row.ViaMessage = "alias", &ts, a.MessageID
			}
			b.set(k, row)
		}
		owned, err := b.tx.IdentitiesBy(store.ByOwner, comp)
		if err != nil {
			return err
		}
		for _, row := range owned {
			b.remember(row)
			affectedAnon[row.Value] = true
		}
	}
	rootOf := func(u string) string {
		if r, ok := roots[u]; ok {
			return r
		}
		if row, ok := b.rows[idKey{store.IdentityUser, u}]; ok {
			return strings.TrimPrefix(row.ProfileKey, "u:")
		}
		return u
	}

	// Anonymous ids whose owner may have changed: the owner is the userId of
	// the earliest link, the candidate profile that user's profile.
	anonList := keys(affectedAnon)
	if err := b.load(store.IdentityAnon, anonList); err != nil {
		return err
	}
	// The owning link is the earlier of the stored owner's (kept on the row)
	// and this batch's earliest.
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
	if err := b.load(store.IdentityUser, dedupe(owners)); err != nil {
		return err
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
	if err := b.applyCap(keys(candidates)); err != nil {
		return err
	}

	// Identities seen for the first time with no link: their own profiles.
	for _, u := range append(users, owners...) {
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
	return b.transition()
}

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// set records a computed identity row, to be written if it differs.
func (b *batch) set(k idKey, row store.Identity) {
	if cur, ok := b.rows[k]; ok && sameIdentity(cur, row) {
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

// applyCap lets each candidate profile keep at most MaxAnonymousIDs
// anonymous ids, the earliest linked; the others stay profiles of their own.
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
			x, y := members[i], members[j]
			if !x.ViaTS.Equal(*y.ViaTS) {
				return x.ViaTS.Before(*y.ViaTS)
			}
			if x.ViaMessage != y.ViaMessage {
				return x.ViaMessage < y.ViaMessage
			}
			return x.Value < y.Value
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

// aggregate runs phase 2.
func (b *batch) aggregate(events []*store.FeedEvent, groupIDs []string) error {
	need := map[string]bool{}
	byEvent := make([]string, len(events))
	for i, e := range events {
		p, ok := primary(e)
		if !ok {
			continue
		}
		row, ok := b.rows[p]
		if !ok {
			return fmt.Errorf("profiles: no identity row for %s %q", p.kind, p.value)
		}
		byEvent[i] = row.ProfileKey
		if _, ok := b.docs[row.ProfileKey]; !ok {
			need[row.ProfileKey] = true
		}
	}
	stored, err := b.tx.Profiles(keys(need))
	if err != nil {
		return err
	}
	for k := range need {
		d := newDoc()
		if row, ok := stored[k]; ok {
			if d, err = decodeDoc(row.Doc); err != nil {
				return fmt.Errorf("profile %q: %w", k, err)
			}
		} else {
			d.traitsChanged = true
		}
		b.docs[k] = d
	}
	var groups map[string]*GroupDoc
	if len(groupIDs) > 0 {
		raw, err := b.tx.GroupDocs(groupIDs)
		if err != nil {
			return err
		}
		groups = make(map[string]*GroupDoc, len(groupIDs))
		for _, id := range groupIDs {
			g := &GroupDoc{Traits: map[string]Stamped{}}
			if r, ok := raw[id]; ok {
				if err := json.Unmarshal(r, g); err != nil {
					return fmt.Errorf("group %q: %w", id, err)
				}
				if g.Traits == nil {
					g.Traits = map[string]Stamped{}
				}
			}
			groups[id] = g
		}
	}
	for i, e := range events {
		parts := parseRaw(e.Raw)
		if e.Type == "group" && e.GroupID != "" {
			mergeGroupTraits(groups[e.GroupID], parts.Traits, eventTime(e), e.MessageID)
		}
		if byEvent[i] != "" {
			b.docs[byEvent[i]].apply(e, parts)
		}
	}
	if len(groups) > 0 {
		out := make(map[string][]byte, len(groups))
		for id, g := range groups {
			raw, err := json.Marshal(g)
			if err != nil {
				return err
			}
			out[id] = raw
		}
		if err := b.tx.PutGroupDocs(out); err != nil {
			return err
		}
	}
	return nil
}

// flush writes identities, documents and deletions.
func (b *batch) flush() error {
	rows := make([]store.Identity, 0, len(b.changed))
	for k := range b.changed {
		rows = append(rows, b.rows[k])
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].Kind+"\x00"+rows[i].Value < rows[j].Kind+"\x00"+rows[j].Value
	})
	if err := b.tx.PutIdentities(rows); err != nil {
		return err
	}
	if err := b.tx.DeleteProfiles(keys(b.gone)); err != nil {
		return err
	}
	out := make([]store.ProfileRow, 0, len(b.docs))
	for _, k := range keys(b.docs) {
		d := b.docs[k]
		if d.Count == 0 {
			// A profile with identities but no events yet (an alias's
			// previousId, an anonymous id seen only with a userId) has no
			// row; its identities still resolve.
			if err := b.tx.DeleteProfiles([]string{k}); err != nil {
				return err
			}
			continue
		}
		raw, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("encode profile %q: %w", k, err)
		}
		row := store.ProfileRow{Key: k, FirstSeen: d.First, LastSeen: d.Last, EventCount: d.Count, Doc: raw,
			TraitValuesChanged: d.traitsChanged}
		if d.traitsChanged {
			row.TraitValues = d.traitValues()
		}
		if strings.HasPrefix(k, "u:") {
			row.UserID = k[2:]
		} else {
			row.AnonymousID = k[2:]
		}
		out = append(out, row)
	}
	return b.tx.PutProfiles(out)
}
