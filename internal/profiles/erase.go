package profiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// EraseRequest names whom to erase: a userId, or an anonymous id (the
// profile it belongs to, whatever ids that profile has).
type EraseRequest struct {
	UserID      string
	AnonymousID string
	RequestedBy string // who asked: "api token NAME", "admin EMAIL", "cli", "segment"
	Source      string // where the request came from: api, dashboard, cli, segment
	Suppress    bool   // keep dropping later events of the erased ids
}

// EraseResult says what an erasure did (never which data).
type EraseResult struct {
	ErasureID     uuid.UUID `json:"erasureId"`
	Identities    int       `json:"identities"`
	EventsDeleted int64     `json:"eventsDeleted"`
	Suppressed    bool      `json:"suppressed"`
}

// ErasureNotice is what destinations that opted in are told after an
// erasure, so their owners' services can forget the person too.
type ErasureNotice struct {
	ErasureID    uuid.UUID
	UserID       string   // the profile's userId ("" for an anonymous-only profile)
	UserIDs      []string // every userId of the profile
	AnonymousIDs []string
}

// eraseBatch is how many events one delete statement removes: small enough
// that each statement's locks last milliseconds, so ingestion goes on.
const eraseBatch = 2000

// ErrNothingToErase means no profile and no event carries the id.
var ErrNothingToErase = errors.New("no profile or event has that id")

// Erase deletes one person: their profile, every identity of it (including
// anonymous ids the cap kept apart), and the events attributed to it (see
// Scope: events of its userIds, and the anonymous-only events of its
// anonymous ids; other users' events that carry one of its anonymous ids
// stay theirs), from every source, in short batches, with every stored copy
// (destination attempts and retries, refused-id entries). It records who
// asked and when, and suppresses the ids (always while it runs, so events
// in flight are dropped too; afterwards only if req.Suppress). Profiles and
// groups that the deleted events also fed are recomputed from what remains.
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
	var sc Scope
	var mainUser string
	err := st.WithProfileLock(ctx, ws, func(tx *store.ProfileTx) error {
		found, err := tx.Identities(kind, []string{value})
		if err != nil {
			return err
		}
		var members, capped []store.Identity
		row, ok := found[value]
		if ok {
			if members, err = tx.IdentitiesBy(store.ByProfile, []string{row.ProfileKey}); err != nil {
				return err
			}
			if capped, err = tx.IdentitiesBy(store.ByCandidate, []string{row.ProfileKey}); err != nil {
				return err
			}
			mainUser = strings.TrimPrefix(row.ProfileKey, "u:")
			if !strings.HasPrefix(row.ProfileKey, "u:") {
				mainUser = ""
			}
		} else if kind == store.IdentityUser {
			mainUser = value
		}
		sc = scopeOf(kind, value, row.ProfileKey, members, capped)
		users, anons := sc.UserIDs, sc.AnonymousIDs
		var hashes []string
		for _, u := range users {
			hashes = append(hashes, HashID(store.IdentityUser, u))
		}
		for _, a := range anons {
			hashes = append(hashes, HashID(store.IdentityAnon, a))
		}
		res.Identities = len(users) + len(anons)
		for _, step := range []func() error{
			func() error { return tx.DeleteProfiles(sc.ProfileKeys) },
			func() error { return tx.EraseAudienceData(sc.ProfileKeys, users, anons) },
			func() error { return tx.DeleteIdentities(store.IdentityUser, users) },
			func() error { return tx.DeleteIdentities(store.IdentityAnon, anons) },
			func() error { return tx.DeleteLinks(anons, users) },
			func() error { return tx.DeleteAliases(append(append([]string{}, users...), anons...)) },
			func() error { return tx.DeleteMergeRefusals(append(append([]string{}, users...), anons...)) },
			func() error { return tx.DeleteSubscriptions(users) },
			func() error {
				return tx.BeginErasure(store.Erasure{ID: res.ErasureID, RequestedBy: req.RequestedBy, Source: req.Source,
					RequestedAt: time.Now().UTC(), Identities: res.Identities, Suppressed: req.Suppress}, hashes)
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
	otherUsers, groups, err := st.ErasureNeighbours(ctx, ws, sc.UserIDs, sc.AnonymousIDs)
	if err != nil {
		return res, err
	}
	for {
		n, err := st.DeleteScopeEvents(ctx, ws, sc.Events, eraseBatch)
		if err != nil {
			return res, err
		}
		res.EventsDeleted += n
		if n == 0 {
			break
		}
	}
	// The refused-ids list keeps ids as sent (cut to 300 bytes): an erased
	// id found there (too long to be an identity, say) goes too.
	var clear []string
	for _, id := range append(append([]string{}, sc.UserIDs...), sc.AnonymousIDs...) {
		clear = append(clear, id, truncate(id, 300))
	}
	if err := st.DeleteRefusedIDs(ctx, ws, clear); err != nil {
		return res, err
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
	if opts.Notify != nil {
		opts.Notify(ctx, ws, ErasureNotice{ErasureID: res.ErasureID, UserID: mainUser, UserIDs: sc.UserIDs, AnonymousIDs: sc.AnonymousIDs})
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
