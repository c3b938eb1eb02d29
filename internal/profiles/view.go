package profiles

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// View is a profile as the API returns it and the pages show it.
type View struct {
	Key           string                     `json:"-"`
	UserID        *string                    `json:"userId"`
	AnonymousIDs  []string                   `json:"anonymousIds"`
	Aliases       []string                   `json:"aliases"` // former userIds merged in by alias
	Traits        map[string]json.RawMessage `json:"traits"`
	TraitsSetBy   map[string]SetBy           `json:"traitsSetBy"`
	Groups        []GroupView                `json:"groups"`
	FirstSeen     time.Time                  `json:"firstSeen"`
	LastSeen      time.Time                  `json:"lastSeen"`
	EventCount    int64                      `json:"eventCount"`
	EventCounts   map[string]int64           `json:"eventCounts"`
	EventNames    map[string]int64           `json:"eventNames"`
	Identities    []IdentityView             `json:"identities"`
	TraitKeysMore bool                       `json:"-"`
}

// SetBy names the event that set a value.
type SetBy struct {
	Timestamp time.Time `json:"timestamp"`
	MessageID string    `json:"messageId"`
}

// GroupView is one group of a profile with the group's traits.
type GroupView struct {
	GroupID string                     `json:"groupId"`
	Traits  map[string]json.RawMessage `json:"traits"`
	SetBy   SetBy                      `json:"lastGroupCall"`
}

// IdentityView explains one identity: why it belongs to this profile.
type IdentityView struct {
	Kind      string     `json:"kind"` // userId or anonymousId
	ID        string     `json:"id"`
	Via       string     `json:"via"` // own, link, alias
	MessageID string     `json:"messageId,omitempty"`
	Timestamp *time.Time `json:"timestamp,omitempty"`
}

// Views builds the views of stored profiles, with their identities and
// groups, in three queries whatever the number of profiles.
func Views(ctx context.Context, st *store.Store, ws uuid.UUID, rows []store.ProfileRow) ([]View, error) {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = r.Key
	}
	ids, err := st.IdentitiesOfProfiles(ctx, ws, keys)
	if err != nil {
		return nil, err
	}
	docs := make([]*Doc, len(rows))
	groupSet := map[string]bool{}
	for i, r := range rows {
		if docs[i], err = decodeDoc(r.Doc); err != nil {
			return nil, fmt.Errorf("profile %q: %w", r.Key, err)
		}
		for g := range docs[i].Groups {
			groupSet[g] = true
		}
	}
	rawGroups, err := st.ProfileGroupDocs(ctx, ws, sortedKeys(groupSet))
	if err != nil {
		return nil, err
	}
	out := make([]View, len(rows))
	for i, r := range rows {
		d := docs[i]
		v := View{Key: r.Key, AnonymousIDs: []string{}, Aliases: []string{}, Traits: map[string]json.RawMessage{},
			TraitsSetBy: map[string]SetBy{}, Groups: []GroupView{}, FirstSeen: r.FirstSeen, LastSeen: r.LastSeen,
			EventCount: r.EventCount, EventCounts: d.Counts, EventNames: d.Names, Identities: []IdentityView{}}
		if r.UserID != "" {
			u := r.UserID
			v.UserID = &u
		}
		for k, s := range d.Traits {
			v.Traits[k] = s.V
			v.TraitsSetBy[k] = SetBy{Timestamp: s.TS, MessageID: s.M}
		}
		for _, g := range sortedKeys(d.Groups) {
			gv := GroupView{GroupID: g, Traits: map[string]json.RawMessage{}, SetBy: SetBy{Timestamp: d.Groups[g].TS, MessageID: d.Groups[g].M}}
			var gd GroupDoc
			if raw, ok := rawGroups[g]; ok && json.Unmarshal(raw, &gd) == nil {
				for k, s := range gd.Traits {
					gv.Traits[k] = s.V
				}
			}
			v.Groups = append(v.Groups, gv)
		}
		for _, id := range ids[r.Key] {
			kind := "userId"
			if id.Kind == store.IdentityAnon {
				kind = "anonymousId"
				v.AnonymousIDs = append(v.AnonymousIDs, id.Value)
			} else if id.Value != r.UserID {
				v.Aliases = append(v.Aliases, id.Value)
			}
			v.Identities = append(v.Identities, IdentityView{Kind: kind, ID: id.Value, Via: id.Via, MessageID: id.ViaMessage, Timestamp: id.ViaTS})
		}
		sort.Strings(v.AnonymousIDs)
		sort.Strings(v.Aliases)
		out[i] = v
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string { return keys(m) }

// Find returns the profile an identity belongs to, as a view.
func Find(ctx context.Context, st *store.Store, ws uuid.UUID, kind, id string) (View, error) {
	row, err := st.ProfileByIdentity(ctx, ws, kind, id)
	if err != nil {
		return View{}, err
	}
	vs, err := Views(ctx, st, ws, []store.ProfileRow{row})
	if err != nil {
		return View{}, err
	}
	return vs[0], nil
}
