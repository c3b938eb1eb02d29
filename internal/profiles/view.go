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
	Key          string                     `json:"-"`
	UserID       *string                    `json:"userId"`
	AnonymousIDs []string                   `json:"anonymousIds"` // ids some event carried as anonymousId
	Aliases      []string                   `json:"aliases"`      // other ids merged in by alias: former userIds, aliased ids
	Traits       map[string]json.RawMessage `json:"traits"`
	TraitsSetBy  map[string]SetBy           `json:"traitsSetBy"`
	Groups       []GroupView                `json:"groups"`
	FirstSeen    time.Time                  `json:"firstSeen"`
	LastSeen     time.Time                  `json:"lastSeen"`
	EventCount   int64                      `json:"eventCount"`
	EventCounts  map[string]int64           `json:"eventCounts"`
	EventNames   map[string]int64           `json:"eventNames"`
	Identities   []IdentityView             `json:"identities"`
	// IdentityCount is how many identities the profile has; Identities (and
	// the two lists above) hold at most MaxViewIdentities of them.
	IdentityCount int64 `json:"identityCount"`
	// MergeRefusals are the newest alias merges refused with this profile
	// (at most MaxViewRefusals; single-profile answers only), and how many
	// there are in all.
	MergeRefusals      []RefusalView `json:"mergeRefusals,omitempty"`
	MergeRefusalsTotal int64         `json:"mergeRefusalsTotal,omitempty"`
	TraitKeysMore      bool          `json:"-"`
}

// Bounds of one view, whatever the profile holds.
const (
	MaxViewIdentities = 1000
	MaxViewRefusals   = 100
)

// RefusalView is an alias merge that was refused, seen from one side.
type RefusalView struct {
	Message    string    `json:"message"` // "merge refused with <other id>: <why>"
	OtherID    string    `json:"otherId"`
	Reason     string    `json:"reason"` // untrusted or max_user_ids
	PreviousID string    `json:"previousId"`
	UserID     string    `json:"userId"`
	MessageID  string    `json:"messageId"`
	Timestamp  time.Time `json:"timestamp"`
	Trusted    bool      `json:"trustedSource"`
}

// RefusalOf describes a stored refusal from the side that is not r.Other.
func RefusalOf(r store.MergeRefusal) RefusalView {
	why := "an alias from a client write key may not merge two users who each have events; send it through the webhook or a server write key"
	if r.Reason == store.RefusedMaxUserIDs {
		why = "the merged profile would hold more userIds than PROFILE_MAX_USER_IDS"
	}
	return RefusalView{Message: "merge refused with " + r.Other + ": " + why, OtherID: r.Other, Reason: r.Reason,
		PreviousID: r.PreviousID, UserID: r.UserID, MessageID: r.MessageID, Timestamp: r.TS, Trusted: r.Trusted}
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
	Via       string     `json:"via"` // own, link, alias, capped
	MessageID string     `json:"messageId,omitempty"`
	Timestamp *time.Time `json:"timestamp,omitempty"`
	// Seen: some event carried the id in this role; a userId merged in by
	// alias that no event carries was only ever a previousId.
	Seen bool `json:"seen"`
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
		v.addIdentities(ids[r.Key], r.UserID)
		out[i] = v
	}
	return out, nil
}

// addIdentities fills the identity lists: an id is an anonymous id only if
// some event carried it as anonymousId; the profile's other userIds (former
// userIds, ids only ever aliased) are its aliases. The anonymous-id rows an
// alias's previousId made are not shown: no event carried them as such.
func (v *View) addIdentities(ids []store.Identity, userID string) {
	anon := map[string]bool{}
	for _, id := range ids {
		if id.Kind == store.IdentityAnon && id.Seen {
			anon[id.Value] = true
		}
	}
	for _, id := range ids {
		if id.Kind == store.IdentityAnon && !id.Seen {
			continue
		}
		v.IdentityCount++
		if len(v.Identities) >= MaxViewIdentities {
			continue
		}
		kind := "userId"
		switch {
		case id.Kind == store.IdentityAnon:
			kind = "anonymousId"
			v.AnonymousIDs = append(v.AnonymousIDs, id.Value)
		case id.Value != userID && (id.Seen || !anon[id.Value]):
			v.Aliases = append(v.Aliases, id.Value)
		}
		v.Identities = append(v.Identities, IdentityView{Kind: kind, ID: id.Value, Via: id.Via, MessageID: id.ViaMessage, Timestamp: id.ViaTS, Seen: id.Seen})
	}
	sort.Strings(v.AnonymousIDs)
	sort.Strings(v.Aliases)
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
	v := vs[0]
	refusals, total, err := st.ProfileMergeRefusals(ctx, ws, row.Key, MaxViewRefusals)
	if err != nil {
		return View{}, err
	}
	v.MergeRefusalsTotal = total
	for _, r := range refusals {
		v.MergeRefusals = append(v.MergeRefusals, RefusalOf(r))
	}
	return v, nil
}
