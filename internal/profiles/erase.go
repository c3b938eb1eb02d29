package profiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// EraseRequest names whom to erase: a userId, or the anonymous id of a
// profile that has only anonymous ids.
type EraseRequest struct {
	UserID      string
	AnonymousID string
	RequestedBy string // who asked: "api token NAME", "admin EMAIL", "cli"
	Suppress    bool   // keep dropping later events of the erased ids
}

// EraseResult says what an erasure did (never which data).
type EraseResult struct {
	ErasureID     uuid.UUID `json:"erasureId"`
	Identities    int       `json:"identities"`
	EventsDeleted int64     `json:"eventsDeleted"`
	Suppressed    bool      `json:"suppressed"`
}

// eraseBatch is how many events one delete statement removes: small enough
// that each statement's locks last milliseconds, so ingestion goes on.
const eraseBatch = 2000

// ErrNothingToErase means no profile and no event carries the id.
var ErrNothingToErase = errors.New("no profile or event has that id")

// Erase deletes a person: their profile, every identity of it (including
// anonymous ids the cap kept apart), and every stored event of any of those
// ids, from every source, in short batches. It records who asked and when,
// and suppresses the ids (always while it runs, so events in flight are
// dropped too; afterwards only if req.Suppress). Profiles and groups that
// the deleted events also fed are recomputed from what remains.
func Erase(ctx context.Context, st *store.Store, ws uuid.UUID, req EraseRequest, supp *Suppressions, opts Options) (EraseResult, error) {
	opts = opts.withDefaults(st.Dialect())
	kind, value := store.IdentityUser, req.UserID
	if value == "" {
		kind, value = store.IdentityAnon, req.AnonymousID
	}
	if value == "" {
		return EraseResult{}, errors.New("erase: a userId or anonymousId is required")
	}
	res := EraseResult{ErasureID: uuid.New(), Suppressed: req.Suppress}
	var users, anons []string
	err := st.WithProfileLock(ctx, ws, func(tx *store.ProfileTx) error {
		users, anons = nil, nil
		found, err := tx.Identities(kind, []string{value})
		if err != nil {
			return err
		}
		ids := []store.Identity{{Kind: kind, Value: value}}
		var profileKeys []string
		if row, ok := found[value]; ok {
			members, err := tx.IdentitiesBy(store.ByProfile, []string{row.ProfileKey})
			if err != nil {
				return err
			}
			capped, err := tx.IdentitiesBy(store.ByCandidate, []string{row.ProfileKey})
			if err != nil {
				return err
			}
			ids = append(append(ids, members...), capped...)
			profileKeys = append(profileKeys, row.ProfileKey)
			for _, c := range capped {
				profileKeys = append(profileKeys, c.ProfileKey)
			}
		}
		seen := map[idKey]bool{}
		var hashes []string
		for _, id := range ids {
			k := idKey{id.Kind, id.Value}
			if seen[k] {
				continue
			}
			seen[k] = true
			hashes = append(hashes, HashID(id.Kind, id.Value))
			if id.Kind == store.IdentityUser {
				users = append(users, id.Value)
			} else {
				anons = append(anons, id.Value)
			}
		}
		sort.Strings(users)
		sort.Strings(anons)
		res.Identities = len(users) + len(anons)
		for _, step := range []func() error{
			func() error { return tx.DeleteProfiles(profileKeys) },
			func() error { return tx.DeleteIdentities(store.IdentityUser, users) },
			func() error { return tx.DeleteIdentities(store.IdentityAnon, anons) },
			func() error { return tx.DeleteLinks(anons, users) },
			func() error { return tx.DeleteAliases(append(append([]string{}, users...), anons...)) },
			func() error { return tx.DeleteMergeRefusals(append(append([]string{}, users...), anons...)) },
			func() error { return tx.DeleteSubscriptions(users) },
			func() error {
				return tx.BeginErasure(store.Erasure{ID: res.ErasureID, RequestedBy: req.RequestedBy, RequestedAt: time.Now().UTC(),
					Identities: res.Identities, Suppressed: req.Suppress}, hashes)
			},
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("erase: %w", err)
	}
	if supp != nil {
		supp.Invalidate()
	}
	otherUsers, groups, err := st.ErasureNeighbours(ctx, ws, users, anons)
	if err != nil {
		return res, err
	}
	for {
		n, err := st.DeleteEventsOfIdentities(ctx, ws, users, anons, eraseBatch)
		if err != nil {
			return res, err
		}
		res.EventsDeleted += n
		if n == 0 {
			break
		}
	}
	if err := refresh(ctx, st, ws, otherUsers, groups, opts); err != nil {
		return res, err
	}
	if err := st.FinishErasure(ctx, res.ErasureID, res.EventsDeleted, req.Suppress); err != nil {
		return res, err
	}
	if supp != nil {
		supp.Invalidate()
	}
	return res, nil
}

// refresh recomputes, from the events that remain, the profiles of users and
// the documents of groups.
func refresh(ctx context.Context, st *store.Store, ws uuid.UUID, users, groups []string, opts Options) error {
	if len(users) == 0 && len(groups) == 0 {
		return nil
	}
	return st.WithProfileLock(ctx, ws, func(tx *store.ProfileTx) error {
		b := newBatch(tx, opts, nil)
		rows, err := tx.Identities(store.IdentityUser, users)
		if err != nil {
			return err
		}
		keySet := map[string]bool{}
		for _, r := range rows {
			keySet[r.ProfileKey] = true
		}
		members, err := tx.IdentitiesBy(store.ByProfile, keys(keySet))
		if err != nil {
			return err
		}
		byProfile := map[string][]idKey{}
		for _, m := range members {
			byProfile[m.ProfileKey] = append(byProfile[m.ProfileKey], idKey{m.Kind, m.Value})
		}
		for _, k := range keys(byProfile) {
			d := newDoc()
			d.traitsChanged = true
			if err := b.recompute(d, byProfile[k]); err != nil {
				return err
			}
			b.docs[k] = d
		}
		if err := b.flush(); err != nil {
			return err
		}
		docs := map[string]*GroupDoc{}
		for _, g := range groups {
			docs[g] = &GroupDoc{Traits: map[string]Stamped{}}
		}
		found := map[string]bool{}
		err = tx.GroupEvents(groups, tx.Cursor(), func(e store.FeedEvent) error {
			found[e.GroupID] = true
			mergeGroupTraits(docs[e.GroupID], parseRaw(e.Raw).Traits, eventTime(&e), e.MessageID)
			return nil
		})
		if err != nil {
			return err
		}
		out := map[string][]byte{}
		var empty []string
		for g, d := range docs {
			if !found[g] {
				empty = append(empty, g)
				continue
			}
			raw, err := json.Marshal(d)
			if err != nil {
				return err
			}
			out[g] = raw
		}
		if err := tx.DeleteGroupDocs(empty); err != nil {
			return err
		}
		return tx.PutGroupDocs(out)
	})
}

// LiftSuppression lets events of a suppressed id (and of every id erased
// with it) be stored again; it returns how many ids it freed.
func LiftSuppression(ctx context.Context, st *store.Store, ws uuid.UUID, kind, id string, supp *Suppressions) (int64, error) {
	n, err := st.LiftSuppression(ctx, ws, HashID(kind, id))
	if supp != nil {
		supp.Invalidate()
	}
	return n, err
}

// IsSuppressed says whether an id is suppressed in ws.
func IsSuppressed(ctx context.Context, st *store.Store, ws uuid.UUID, kind, id string) (bool, error) {
	return st.IsSuppressed(ctx, ws, HashID(kind, id))
}

// describe is for logs: how many ids, never which.
func (r EraseResult) String() string {
	return strings.TrimSpace(fmt.Sprintf("erasure %s: %d identities, %d events deleted, suppressed=%v",
		r.ErasureID, r.Identities, r.EventsDeleted, r.Suppressed))
}
