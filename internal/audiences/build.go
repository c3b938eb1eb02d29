package audiences

import (
	"context"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// BuildStep advances the builds of ws's new audience versions by one
// transaction: fill one new leaf's states from the stored events, or
// evaluate one page of profiles, or swap the finished versions in. It says
// whether it did anything. The old versions stay current meanwhile.
func (e *Engine) BuildStep(ctx context.Context, ws uuid.UUID) (bool, error) {
	// Most of the time nothing is building: find that out without the lock.
	rows, err := e.st.Audiences(ctx, ws)
	if err != nil {
		return false, err
	}
	building := false
	for _, r := range rows {
		building = building || r.Building()
	}
	if !building {
		return false, nil
	}
	did := false
	err = e.st.WithAudienceLock(ctx, ws, func(tx *store.AudienceTx) error {
		s, err := e.load(tx)
		if err != nil || s.next == nil {
			return err
		}
		did = true
		ready, err := tx.ReadyLeaves()
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(s.next.leaves))
		for id := range s.next.leaves {
			if !ready[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			sort.Strings(ids)
			return e.backfill(tx, s.next.leaves[ids[0]])
		}
		return e.buildPage(tx, s)
	})
	if err != nil {
		return false, fmt.Errorf("build audiences of %s: %w", ws, err)
	}
	return did, nil
}

// backfill computes a new leaf's states from every stored event the
// follower has passed; the follower adds later ones as they come.
func (e *Engine) backfill(tx *store.AudienceTx, leaf *Performed) error {
	if err := tx.ResetLeaf(leaf.ID); err != nil {
		return err
	}
	typ, name := leaf.events()
	now := e.opts.Now().UTC()
	if len(leaf.Where) == 0 {
		// Nothing to decide in Go: the database counts (PostgreSQL).
		floor := int64(0)
		if leaf.Window > 0 {
			floor = now.UnixMilli() - leaf.Window*1000
		}
		done, err := tx.FillLeafStates(leaf.ID, typ, name, leaf.Keep(), floor)
		if err != nil {
			return err
		}
		if done {
			return tx.MarkLeafReady(leaf.ID)
		}
	}
	states, err := countLeaf(tx, leaf)
	if err != nil {
		return err
	}
	rows := make([]store.LeafStateRow, 0, len(states))
	for id, st := range states {
		st.Prune(now, leaf.Window)
		rows = append(rows, store.LeafStateRow{LeafID: leaf.ID, Kind: id.kind, Value: id.value, State: encodeState(st)})
	}
	if err := tx.PutLeafStates(rows); err != nil {
		return err
	}
	return tx.MarkLeafReady(leaf.ID)
}

// countLeaf computes a leaf's states from every stored event the follower
// has passed, in Go, per identity as the follower counts: an event's
// userId when that is a known identity, else its anonymousId; events of
// neither are no profile's. States are not pruned.
func countLeaf(tx *store.AudienceTx, leaf *Performed) (map[identity]*LeafState, error) {
	typ, name := leaf.events()
	states := map[identity]*LeafState{}
	keys := propKeys(map[string]*Performed{leaf.ID: leaf})
	after := int64(0)
	for {
		events, err := tx.EventsUpTo(typ, name, after, 5000)
		if err != nil {
			return nil, err
		}
		var users, anons []string
		for i := range events {
			users = append(users, events[i].UserID)
			anons = append(anons, events[i].AnonymousID)
		}
		userProf, err := tx.IdentityProfiles(store.IdentityUser, users)
		if err != nil {
			return nil, err
		}
		anonProf, err := tx.IdentityProfiles(store.IdentityAnon, anons)
		if err != nil {
			return nil, err
		}
		for i := range events {
			ev := &events[i]
			after = ev.Cursor.ID
			var id identity
			if _, ok := userProf[ev.UserID]; ok && ev.UserID != "" {
				id = identity{store.IdentityUser, ev.UserID}
			} else if _, ok := anonProf[ev.AnonymousID]; ok && ev.AnonymousID != "" {
				id = identity{store.IdentityAnon, ev.AnonymousID}
			} else {
				continue
			}
			ts := ev.ReceivedAt
			if ev.Timestamp != nil {
				ts = *ev.Timestamp
			}
			if !leaf.matches(properties(ev.Raw, keys), ts) {
				continue
			}
			st := states[id]
			if st == nil {
				st = &LeafState{}
				states[id] = st
			}
			st.Add(ts, leaf.Keep())
		}
		if len(events) < 5000 {
			return states, nil
		}
	}
}

// buildPage evaluates the next page of profiles for every building
// version (recording, not emitting), or swaps them in when all are done.
func (e *Engine) buildPage(tx *store.AudienceTx, s *stored) error {
	var building []store.AudienceRow
	after, fresh := "", false
	for _, k := range s.keys {
		r := s.rows[k]
		if !s.newer[k] {
			continue
		}
		building = append(building, r)
		if r.BuildAfter == nil {
			fresh = true
		} else if len(building) == 1 || *r.BuildAfter < after {
			after = *r.BuildAfter
		}
	}
	if fresh {
		after = ""
	}
	total := building[0].BuildTotal
	if fresh {
		n, err := tx.CountProfiles()
		if err != nil {
			return err
		}
		total = n
	}
	p := &pass{tx: tx, s: s, now: e.opts.Now().UTC(), build: true}
	keys, subs, profs, err := p.subjectsPage(after, e.opts.BuildPage)
	if err != nil {
		return err
	}
	p.loaded, p.loadedProfs = subs, profs
	if len(keys) > 0 {
		causes := make(map[string]cause, len(keys))
		for _, k := range keys {
			causes[k] = cause{message: "build", at: p.now}
		}
		if err := p.evaluate(keys, causes); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		last := keys[len(keys)-1]
		for _, r := range building {
			done := r.BuildDone + int64(len(keys))
			if fresh || r.BuildAfter == nil {
				done = int64(len(keys))
			}
			if err := tx.SetBuild(r.Key, r.Version, &last, done, max(total, done), true); err != nil {
				return err
			}
		}
		if len(keys) == e.opts.BuildPage {
			return nil
		}
	}
	return e.swap(tx, s, building)
}

// swap makes the built versions current. With emitOnBuild the differences
// from the old version (every member, on a first build) become events.
func (e *Engine) swap(tx *store.AudienceTx, s *stored, building []store.AudienceRow) error {
	p := &pass{tx: tx, s: s, now: e.opts.Now().UTC()}
	for _, r := range building {
		d := s.defs[r.Key]
		if d.EmitOnBuild {
			if err := p.emitBuildDiff(r); err != nil {
				return err
			}
		}
		if err := tx.SwapAudience(r.Key, r.Version, r.Definition); err != nil {
			return err
		}
	}
	if err := p.flush(); err != nil {
		return err
	}
	if dependents(s, building) {
		if err := e.refreshAll(tx); err != nil {
			return err
		}
	}
	// Leaves no definition reads any more are dropped with their states.
	keep := map[string]bool{}
	for id := range s.next.leaves {
		keep[id] = true
	}
	if s.cur != nil {
		for k, d := range s.curs {
			if s.newer[k] {
				continue
			}
			d.Condition.Walk(func(n *Node) {
				if n.Kind == KindPerformed {
					keep[n.Performed.ID] = true
				}
			})
		}
	}
	return tx.DropLeaves(keep)
}

// emitBuildDiff emits a transition for every profile whose membership
// differs between the current version and the built one.
func (p *pass) emitBuildDiff(r store.AudienceRow) error {
	newRows, err := p.tx.AudienceMembers(r.Key, r.Version)
	if err != nil {
		return err
	}
	was := map[string]bool{}
	if r.CurrentVersion > 0 {
		oldRows, err := p.tx.AudienceMembers(r.Key, r.CurrentVersion)
		if err != nil {
			return err
		}
		for _, m := range oldRows {
			was[m.ProfileKey] = m.Member
		}
	}
	var keys []string
	is := map[string]bool{}
	for _, m := range newRows {
		is[m.ProfileKey] = m.Member
		if m.Member != was[m.ProfileKey] {
			keys = append(keys, m.ProfileKey)
		}
	}
	// Members of the old version the new one never counted leave too.
	var gone []store.MemberRow
	for k, member := range was {
		if _, seen := is[k]; member && !seen {
			keys = append(keys, k)
			gone = append(gone, store.MemberRow{AudienceKey: r.Key, Version: r.Version, ProfileKey: k, Member: false, Since: p.now, Seq: 1})
		}
	}
	profs, err := p.tx.Profiles(keys)
	if err != nil {
		return err
	}
	for _, m := range append(newRows, gone...) {
		if prof, ok := profs[m.ProfileKey]; ok && m.Member != was[m.ProfileKey] {
			p.events = append(p.events, transitionEvent(p.tx, r, r.Version, prof, m, p.now))
		}
	}
	p.rows = append(p.rows, gone...)
	return nil
}

// dependents says whether a current audience refers, directly or through
// others, to one of the swapped ones: its members may change with the swap.
func dependents(s *stored, swapped []store.AudienceRow) bool {
	changed := map[string]bool{}
	for _, r := range swapped {
		changed[r.Key] = true
	}
	for grew := true; grew; {
		grew = false
		for k, d := range s.defs {
			if changed[k] {
				continue
			}
			for _, ref := range d.Condition.References() {
				if changed[ref] {
					changed[k], grew = true, true
					break
				}
			}
		}
	}
	return len(changed) > len(swapped)
}

// refreshAll re-evaluates every profile against the current versions (as
// a live change: transitions are emitted), page by page in this
// transaction, after a swap changed what other audiences refer to.
func (e *Engine) refreshAll(tx *store.AudienceTx) error {
	s, err := e.load(tx)
	if err != nil {
		return err
	}
	after := ""
	for {
		keys, err := tx.ProfileKeysAfter(after, e.opts.BuildPage)
		if err != nil || len(keys) == 0 {
			return err
		}
		p := &pass{tx: tx, s: s, now: e.opts.Now().UTC(), emit: true}
		causes := make(map[string]cause, len(keys))
		for _, k := range keys {
			causes[k] = cause{message: "build", at: p.now}
		}
		if err := p.evaluate(keys, causes); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		after = keys[len(keys)-1]
	}
}
