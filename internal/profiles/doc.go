package profiles

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/inlet-dev/inlet/internal/store"
)

// Who may merge whom (the rule alias.go applies; docs/api.md says it for
// users of the API).
//
// Profiles merge only by alias calls (a link never joins two userIds: an
// anonymous id belongs to one user). Aliases are applied per component in
// (timestamp, messageId) order, and one merges previousId's set into
// userId's unless:
//
//   - it came from an untrusted source (a client write key: events carry
//     trusted, set at ingest from the webhook's signature or the key's kind
//     then) and both sets hold a userId that some event carries as userId
//     ("seen", kept on the identity row); or
//   - the merged set would hold more than MaxUserIDs seen userIds.
//
// Refused calls are stored in profile_merge_refusals. Every input is a
// stored fact, a function of the set of events: the aliases with their
// trust (one row per distinct call and trust, the earliest timestamp kept)
// and which userIds events carry. The decision therefore depends neither on
// arrival order nor on batching, and a rebuild reproduces it; when a fact
// changes (a userId carried for the first time that an alias already
// named), the component is resolved again and a merge made before it is
// undone (the split profile is recomputed from its events). The property
// test delivers half its aliases as from a client key, with MaxUserIDs 2.

// Bounds on one profile's document. Each keeps the lexicographically
// smallest keys, which is a function of the set of keys alone: merging two
// bounded documents gives what one document over both event sets gives, so
// the bounds do not break order independence.
const (
	MaxTraits = 1000 // trait keys per profile (and per group)
	MaxNames  = 500  // distinct event names per profile
	MaxGroups = 200  // groups per profile
)

// Stamped is a value with the event that set it: the one with the latest
// (timestamp, messageId) wins, whatever order events arrive in.
type Stamped struct {
	V  json.RawMessage `json:"v"`
	TS time.Time       `json:"ts"`
	M  string          `json:"m"`
}

// newer reports whether s should replace old.
func (s Stamped) newer(old Stamped) bool { return store.Before(old.TS, old.M, s.TS, s.M) }

// GroupRef is a profile's membership of a group: the latest group call.
type GroupRef struct {
	TS time.Time `json:"ts"`
	M  string    `json:"m"`
}

// Doc is everything a profile knows besides its identities. Every field
// merges commutatively (per-key latest, sums, min/max), so the document of a
// set of events does not depend on their order or on how they were batched.
type Doc struct {
	Traits map[string]Stamped  `json:"traits"`
	Groups map[string]GroupRef `json:"groups"`
	Counts map[string]int64    `json:"counts"` // events by type
	Names  map[string]int64    `json:"names"`  // events by name (track/page/screen)
	First  time.Time           `json:"first"`
	Last   time.Time           `json:"last"`
	Count  int64               `json:"count"`

	traitsChanged bool // since loaded: the searchable trait values need rewriting
	// The batch's latest event that set one of its traits (a merge's
	// traits came with older events: not these), and its latest event at
	// all: what the audience engine names as the cause of the transitions
	// this change brings.
	traitsSetBy, lastEvent string
}

// cause is the messageId to name for this batch's change of the profile:
// the event that last set a trait, else its latest event (a new profile,
// a link or a merge), else "" (no event of this batch reached it).
func (d *Doc) cause() string {
	if d.traitsSetBy != "" {
		return d.traitsSetBy
	}
	return d.lastEvent
}

// GroupDoc is a group's traits, merged by the same rule.
type GroupDoc struct {
	Traits map[string]Stamped `json:"traits"`
}

func newDoc() *Doc {
	return &Doc{Traits: map[string]Stamped{}, Groups: map[string]GroupRef{}, Counts: map[string]int64{}, Names: map[string]int64{}}
}

func decodeDoc(b []byte) (*Doc, error) {
	d := newDoc()
	if len(b) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(b, d); err != nil {
		return nil, err
	}
	if d.Traits == nil {
		d.Traits = map[string]Stamped{}
	}
	if d.Groups == nil {
		d.Groups = map[string]GroupRef{}
	}
	if d.Counts == nil {
		d.Counts = map[string]int64{}
	}
	if d.Names == nil {
		d.Names = map[string]int64{}
	}
	return d, nil
}

// eventTime is an event's time for profiles: its timestamp (Segment sets it
// on every call), else when Inlet received it.
func eventTime(e *store.FeedEvent) time.Time {
	if e.Timestamp != nil {
		return e.Timestamp.UTC()
	}
	return e.ReceivedAt.UTC()
}

// rawParts is what profiles read from an event's JSON.
type rawParts struct {
	Traits  map[string]json.RawMessage `json:"traits"`
	Context struct {
		Traits map[string]json.RawMessage `json:"traits"`
	} `json:"context"`
}

func parseRaw(raw []byte) rawParts {
	var p rawParts
	// Most events carry no traits at all; skip decoding those.
	if !bytes.Contains(raw, []byte(`"traits"`)) {
		return p
	}
	// A stored event is valid JSON. Traits that are not an object are
	// skipped: the decoder reports the mismatch but fills the other fields.
	_ = json.Unmarshal(raw, &p)
	return p
}

// apply adds one event to the document; group traits are returned for the
// caller to merge into the group's own document.
func (d *Doc) apply(e *store.FeedEvent, parts rawParts) {
	ts := eventTime(e)
	d.lastEvent = e.MessageID
	d.Count++
	d.Counts[e.Type]++
	if d.Count == 1 || ts.Before(d.First) {
		d.First = ts
	}
	if d.Count == 1 || ts.After(d.Last) {
		d.Last = ts
	}
	if e.Event != "" && (e.Type == "track" || e.Type == "page" || e.Type == "screen") {
		d.Names[e.Event]++
	}
	// context.traits first: an identify's own traits win within one event.
	set := false
	for k, v := range parts.Context.Traits {
		set = d.setTrait(k, Stamped{V: v, TS: ts, M: e.MessageID}) || set
	}
	if e.Type == "identify" {
		for k, v := range parts.Traits {
			set = d.setTrait(k, Stamped{V: v, TS: ts, M: e.MessageID}) || set
		}
	}
	if set {
		d.traitsSetBy = e.MessageID
	}
	if e.Type == "group" && e.GroupID != "" {
		g := GroupRef{TS: ts, M: e.MessageID}
		if old, ok := d.Groups[e.GroupID]; !ok || store.Before(old.TS, old.M, g.TS, g.M) {
			d.Groups[e.GroupID] = g
		}
	}
	d.trim()
}

// setTrait keeps s for k when it is newer than what the document holds,
// and says whether it did.
func (d *Doc) setTrait(k string, s Stamped) bool {
	if old, ok := d.Traits[k]; ok && !s.newer(old) {
		return false
	}
	d.Traits[k] = s
	d.traitsChanged = true
	return true
}

// merge folds o into d.
func (d *Doc) merge(o *Doc) {
	if o.Count == 0 {
		return
	}
	if d.Count == 0 || o.First.Before(d.First) {
		d.First = o.First
	}
	if d.Count == 0 || o.Last.After(d.Last) {
		d.Last = o.Last
	}
	d.Count += o.Count
	for k, n := range o.Counts {
		d.Counts[k] += n
	}
	for k, n := range o.Names {
		d.Names[k] += n
	}
	for k, v := range o.Traits {
		d.setTrait(k, v)
	}
	for k, g := range o.Groups {
		if old, ok := d.Groups[k]; !ok || store.Before(old.TS, old.M, g.TS, g.M) {
			d.Groups[k] = g
		}
	}
	d.trim()
}

func (d *Doc) trim() {
	trimMap(d.Traits, MaxTraits)
	trimMap(d.Names, MaxNames)
	trimMap(d.Groups, MaxGroups)
}

// trimMap keeps the n smallest keys.
func trimMap[V any](m map[string]V, n int) {
	if len(m) <= n {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys[n:] {
		delete(m, k)
	}
}

// traitValues are the searchable (key, value) pairs: strings up to 256
// characters, numbers and booleans as their JSON text.
func (d *Doc) traitValues() []store.TraitValue {
	var out []store.TraitValue
	for k, s := range d.Traits {
		if v, ok := scalarText(s.V); ok && len(k) <= 256 {
			out = append(out, store.TraitValue{Key: k, Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func scalarText(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if json.Unmarshal(v, &s) != nil || utf8.RuneCountInString(s) > 256 {
			return "", false
		}
		return s, true
	case 't', 'f':
		return string(v), string(v) == "true" || string(v) == "false"
	case '{', '[', 'n':
		return "", false
	}
	if _, err := strconv.ParseFloat(string(v), 64); err == nil && len(v) <= 64 {
		return string(v), true
	}
	return "", false
}

func mergeGroupTraits(g *GroupDoc, traits map[string]json.RawMessage, ts time.Time, mid string) {
	for k, v := range traits {
		s := Stamped{V: v, TS: ts, M: mid}
		if old, ok := g.Traits[k]; ok && !s.newer(old) {
			continue
		}
		g.Traits[k] = s
	}
	trimMap(g.Traits, MaxTraits)
}
