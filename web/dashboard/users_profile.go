package dashboard

import (
	"sort"

	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/templates"
)

// timelinePage is how many events one page of a profile's timeline shows.
const timelinePage = 50

// What one profile page shows at most, whatever the profile holds: the
// page stays small however many traits or names a sender invents.
const (
	maxShownTraits     = 200
	maxShownNames      = 100
	maxShownTraitBytes = 1000
)

// fillProfile turns a view into the page's rows, bounded.
func fillProfile(p *templates.UserProps, v profiles.View) {
	p.FirstSeen, p.LastSeen, p.EventCount = v.FirstSeen, v.LastSeen, v.EventCount
	keys := make([]string, 0, len(v.Traits))
	for k := range v.Traits {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > maxShownTraits {
		p.TraitsMore = len(keys) - maxShownTraits
		keys = keys[:maxShownTraits]
	}
	for _, k := range keys {
		row := traitRow(k, v.Traits[k])
		if s, ok := v.TraitsSetBy[k]; ok {
			row.SetAt, row.MessageID = s.Timestamp, s.MessageID
		}
		p.Traits = append(p.Traits, row)
	}
	for _, g := range v.Groups {
		gr := templates.GroupRow{GroupID: g.GroupID, SetAt: g.SetBy.Timestamp, MessageID: g.SetBy.MessageID}
		gkeys := make([]string, 0, len(g.Traits))
		for k := range g.Traits {
			gkeys = append(gkeys, k)
		}
		sort.Strings(gkeys)
		for _, k := range gkeys[:min(len(gkeys), maxShownTraits)] {
			gr.Traits = append(gr.Traits, traitRow(k, g.Traits[k]))
		}
		p.Groups = append(p.Groups, gr)
	}
	p.Counts = countRows(v.EventCounts)
	p.Names = countRows(v.EventNames)
	if len(p.Names) > maxShownNames {
		p.NamesMore = len(p.Names) - maxShownNames
		p.Names = p.Names[:maxShownNames]
	}
}

func traitRow(key string, raw []byte) templates.TraitRow {
	val, cut := cutJSON(raw, maxShownTraitBytes)
	return templates.TraitRow{Key: key, Value: val, Cut: cut, Size: len(raw)}
}

// identityWhy explains in words why an id belongs to the profile.
func identityWhy(id profiles.IdentityView) string {
	switch id.Via {
	case "own":
		return "the profile's own id"
	case "link":
		return "an event carried it together with the userId"
	case "alias":
		return "merged by an alias call"
	case "capped":
		return "kept apart: the profile holds its maximum of anonymous ids"
	}
	return id.Via
}

// countRows sorts counts most frequent first, then by name.
func countRows(m map[string]int64) []templates.CountRow {
	out := make([]templates.CountRow, 0, len(m))
	for k, n := range m {
		out = append(out, templates.CountRow{Name: k, N: n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Name < out[j].Name
	})
	return out
}
