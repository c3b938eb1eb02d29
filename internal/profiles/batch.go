package profiles

import (
	"sort"
	"strings"

	"github.com/inlet-dev/inlet/internal/store"
)

// idKey names one identity.
type idKey struct{ kind, value string }

// batch applies one batch of feed events to a workspace's profiles inside a
// ProfileTx. It works in two phases:
//
//  1. identities (identity.go, alias.go): new links and aliases are stored,
//     and every identity whose profile could change is resolved again from
//     the stored links and aliases (a pure function of them). Profiles that
//     only absorb whole other profiles get their documents merged; a profile
//     that loses some of its identities (a late event re-linked an anonymous
//     id, a late alias reordered a merge) is recomputed from its stored
//     events up to the cursor, because "latest wins" cannot be subtracted.
//  2. aggregates (aggregate.go): each event is added to the document of the
//     profile of its primary identity (its userId if valid, else its
//     anonymousId).
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

	seenUsers map[string]bool      // userIds this batch's events carry as userId
	seenAnons map[string]bool      // anonymous ids they carry as anonymousId
	refused   []store.MergeRefusal // refusals recorded for the first time
}

func newBatch(tx *store.ProfileTx, opts Options, suppr func(kind, id string) bool) *batch {
	return &batch{tx: tx, opts: opts, upTo: tx.Cursor(), suppr: suppr,
		rows: map[idKey]store.Identity{}, orig: map[idKey]store.Identity{}, changed: map[idKey]bool{}, docs: map[string]*Doc{}, gone: map[string]bool{},
		seenUsers: map[string]bool{}, seenAnons: map[string]bool{}}
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

// collected is what phase 1 needs from a batch's events.
type collected struct {
	live     []*store.FeedEvent // events not suppressed
	dropped  []int64            // ids of suppressed events to delete
	links    map[[2]string]store.Link
	aliases  []store.Alias
	refused  map[idKey]int64
	users    map[string]bool // valid userIds carried
	anons    map[string]bool // valid anonymousIds carried without a valid userId
	seenAnon map[string]bool // every valid anonymousId carried
	groupIDs map[string]bool
}

// collect sorts a batch's events into what the two phases need.
func (b *batch) collect(events []store.FeedEvent) *collected {
	c := &collected{links: map[[2]string]store.Link{}, refused: map[idKey]int64{},
		users: map[string]bool{}, anons: map[string]bool{}, seenAnon: map[string]bool{}, groupIDs: map[string]bool{}}
	for i := range events {
		e := &events[i]
		if store.IsTestEvent(e.MessageID) {
			continue // Inlet's own test event: no profile, no audience member
		}
		if b.suppressed(e) {
			c.dropped = append(c.dropped, e.Cursor.ID)
			continue
		}
		c.live = append(c.live, e)
		c.add(e, b.suppressedAnon(e))
	}
	return c
}

func (c *collected) add(e *store.FeedEvent, anonSuppressed bool) {
	uok, aok := validID(e.UserID), validID(e.AnonymousID)
	if e.UserID != "" && !uok {
		c.refused[idKey{store.IdentityUser, e.UserID}]++
	}
	if e.AnonymousID != "" && !aok {
		c.refused[idKey{store.IdentityAnon, e.AnonymousID}]++
	}
	if aok && anonSuppressed {
		aok = false
	}
	ts := eventTime(e)
	if uok {
		c.users[e.UserID] = true
	} else if aok {
		c.anons[e.AnonymousID] = true
	}
	if aok {
		c.seenAnon[e.AnonymousID] = true
	}
	if uok && aok {
		c.addLink(store.Link{AnonymousID: e.AnonymousID, UserID: e.UserID, TS: ts, MessageID: e.MessageID})
	}
	switch {
	case e.Type == "alias" && uok && validID(e.PreviousID) && e.PreviousID != e.UserID:
		// Segment's alias does not say whether previousId was a userId or
		// an anonymousId, so it is both: the profile holding either merges.
		c.aliases = append(c.aliases, store.Alias{MessageID: e.MessageID, PreviousID: e.PreviousID, UserID: e.UserID, Trusted: e.Trusted, TS: ts})
		c.addLink(store.Link{AnonymousID: e.PreviousID, UserID: e.UserID, TS: ts, MessageID: e.MessageID})
	case e.Type == "alias" && e.PreviousID != "" && !validID(e.PreviousID):
		c.refused[idKey{store.IdentityUser, e.PreviousID}]++
	}
	if e.Type == "group" && e.GroupID != "" {
		c.groupIDs[e.GroupID] = true
	}
}

// addLink keeps the earliest link per (anonymousId, userId) pair.
func (c *collected) addLink(l store.Link) {
	k := [2]string{l.AnonymousID, l.UserID}
	if old, ok := c.links[k]; !ok || store.Before(l.TS, l.MessageID, old.TS, old.MessageID) {
		c.links[k] = l
	}
}

// run applies events (already committed, after the cursor) and moves the
// cursor past them.
func (b *batch) run(events []store.FeedEvent) error {
	if len(events) == 0 {
		return nil
	}
	c := b.collect(events)
	b.seenUsers, b.seenAnons = c.users, c.seenAnon
	if err := b.identities(keys(c.users), keys(c.anons), c.links, c.aliases); err != nil {
		return err
	}
	if err := b.aggregate(c.live, keys(c.groupIDs)); err != nil {
		return err
	}
	if err := b.countRefused(c.refused); err != nil {
		return err
	}
	if len(c.dropped) > 0 {
		// Stored on another instance before it learnt of the suppression.
		if err := b.tx.DeleteEventsByID(c.dropped); err != nil {
			return err
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	return b.tx.SetCursor(events[len(events)-1].Cursor)
}

// countRefused adds the batch's refused ids to their stored counts.
func (b *batch) countRefused(refused map[idKey]int64) error {
	if len(refused) == 0 {
		return nil
	}
	rs := make([]store.RefusedID, 0, len(refused))
	for k, n := range refused {
		rs = append(rs, store.RefusedID{Kind: k.kind, Value: truncate(k.value, 300), Events: n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Kind+rs[i].Value < rs[j].Kind+rs[j].Value })
	return b.tx.AddRefused(mergeRefused(rs))
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

func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}
