package profiles

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// Scope is what an erasure of one person takes: the profile an id belongs
// to, every identity of it (with the anonymous ids the cap kept apart), and
// the events attributed to it. The profile page lists the same events and
// its confirmation states their number, so what the admin sees is what goes.
type Scope struct {
	ProfileKeys  []string // the profile and the capped ids' own profiles
	UserIDs      []string // every userId of the profile: its own and those merged by alias
	AnonymousIDs []string
	Events       store.EventScope
}

// noUserValues are the userId values that are no identity, as the scope's
// SQL compares them (lower-case, trimmed): an event carrying one with an
// anonymous id counts for the anonymous id, as in the profiles.
var noUserValues = func() []string {
	out := make([]string, 0, len(junkIDs))
	for v := range junkIDs {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}()

// scopeOf builds the scope of the id (kind, value) from the identities of
// its profile (none when it has no profile: then the id alone).
func scopeOf(kind, value string, profileKey string, members, capped []store.Identity) Scope {
	var sc Scope
	if profileKey != "" {
		sc.ProfileKeys = append(sc.ProfileKeys, profileKey)
	}
	seen := map[idKey]bool{}
	add := func(id store.Identity) {
		k := idKey{id.Kind, id.Value}
		if seen[k] {
			return
		}
		seen[k] = true
		if id.Kind == store.IdentityUser {
			sc.UserIDs = append(sc.UserIDs, id.Value)
		} else {
			sc.AnonymousIDs = append(sc.AnonymousIDs, id.Value)
		}
	}
	add(store.Identity{Kind: kind, Value: value})
	for _, m := range members {
		add(m)
	}
	for _, c := range capped {
		add(c)
		if c.ProfileKey != "" && c.ProfileKey != profileKey {
			sc.ProfileKeys = append(sc.ProfileKeys, c.ProfileKey)
		}
	}
	sort.Strings(sc.UserIDs)
	sort.Strings(sc.AnonymousIDs)
	sc.Events = store.EventScope{Users: sc.UserIDs, Anons: sc.AnonymousIDs, NoUser: noUserValues}
	return sc
}

// ScopeOf reads the scope of the person an id belongs to, without the
// profile lock (for pages; Erase reads it again under the lock).
func ScopeOf(ctx context.Context, st *store.Store, ws uuid.UUID, kind, value string) (Scope, error) {
	row, err := st.ProfileByIdentity(ctx, ws, kind, value)
	if errors.Is(err, store.ErrNotFound) {
		return scopeOf(kind, value, "", nil, nil), nil
	}
	if err != nil {
		return Scope{}, err
	}
	members, err := st.ProfileIdentities(ctx, ws, row.Key)
	if err != nil {
		return Scope{}, fmt.Errorf("identities of profile: %w", err)
	}
	capped, err := st.CappedIdentities(ctx, ws, row.Key)
	if err != nil {
		return Scope{}, fmt.Errorf("capped identities of profile: %w", err)
	}
	return scopeOf(kind, value, row.Key, members, capped), nil
}

// CountErasable counts the events an erasure of the scope deletes now.
func CountErasable(ctx context.Context, st *store.Store, ws uuid.UUID, sc Scope) (int64, error) {
	return st.CountScopeEvents(ctx, ws, sc.Events)
}
