package profiles

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/inlet-dev/inlet/internal/store"
)

// aggregate runs phase 2: every live event is added to the document of its
// primary identity's profile, and group calls to their group's document.
func (b *batch) aggregate(events []*store.FeedEvent, groupIDs []string) error {
	byEvent, err := b.loadDocs(events)
	if err != nil {
		return err
	}
	groups, err := b.loadGroups(groupIDs)
	if err != nil {
		return err
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
	return b.putGroups(groups)
}

// loadDocs finds each event's profile and loads the documents not loaded
// yet; it returns the profile key per event ("" for an event with no id).
func (b *batch) loadDocs(events []*store.FeedEvent) ([]string, error) {
	need := map[string]bool{}
	byEvent := make([]string, len(events))
	for i, e := range events {
		p, ok := primary(e)
		if !ok {
			continue
		}
		row, ok := b.rows[p]
		if !ok {
			return nil, fmt.Errorf("profiles: no identity row for %s %q", p.kind, p.value)
		}
		byEvent[i] = row.ProfileKey
		if _, ok := b.docs[row.ProfileKey]; !ok {
			need[row.ProfileKey] = true
		}
	}
	stored, err := b.tx.Profiles(keys(need))
	if err != nil {
		return nil, err
	}
	for k := range need {
		d := newDoc()
		if row, ok := stored[k]; ok {
			if d, err = decodeDoc(row.Doc); err != nil {
				return nil, fmt.Errorf("profile %q: %w", k, err)
			}
		} else {
			d.traitsChanged = true
		}
		b.docs[k] = d
	}
	return byEvent, nil
}

// loadGroups reads the stored documents of the groups the batch calls.
func (b *batch) loadGroups(groupIDs []string) (map[string]*GroupDoc, error) {
	if len(groupIDs) == 0 {
		return nil, nil
	}
	raw, err := b.tx.GroupDocs(groupIDs)
	if err != nil {
		return nil, err
	}
	groups := make(map[string]*GroupDoc, len(groupIDs))
	for _, id := range groupIDs {
		g := &GroupDoc{Traits: map[string]Stamped{}}
		if r, ok := raw[id]; ok {
			if err := json.Unmarshal(r, g); err != nil {
				return nil, fmt.Errorf("group %q: %w", id, err)
			}
			if g.Traits == nil {
				g.Traits = map[string]Stamped{}
			}
		}
		groups[id] = g
	}
	return groups, nil
}

func (b *batch) putGroups(groups map[string]*GroupDoc) error {
	if len(groups) == 0 {
		return nil
	}
	out := make(map[string][]byte, len(groups))
	for id, g := range groups {
		raw, err := json.Marshal(g)
		if err != nil {
			return err
		}
		out[id] = raw
	}
	return b.tx.PutGroupDocs(out)
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
