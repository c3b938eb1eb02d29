package audiences

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// stored is a workspace's audiences as one transaction sees them.
type stored struct {
	rows  map[string]store.AudienceRow
	keys  []string        // sorted
	cur   *Set            // current versions; nil when none is current
	next  *Set            // newest versions, when any is building
	newer map[string]bool // audiences whose newest version is building
	defs  map[string]*Definition
	curs  map[string]*Definition
	props map[string]bool // the property keys where clauses look at
	// extra are leaves read without being evaluated: a preview's built
	// siblings of leaves not built yet (see siblingLeaves).
	extra map[string]*Performed
}

// storedLimits parses what was validated at save: limits lowered since then
// must not make stored audiences unreadable.
var storedLimits = Limits{MaxAudiences: 1 << 20, MaxNodes: 1 << 20, MaxDepth: 1 << 10}

func load(tx *store.AudienceTx) (*stored, error) {
	rows, err := tx.Audiences()
	if err != nil {
		return nil, err
	}
	return fromRows(rows)
}

// load is load with the engine's cache of parsed definitions.
func (e *Engine) load(tx *store.AudienceTx) (*stored, error) {
	rows, err := tx.Audiences()
	if err != nil {
		return nil, err
	}
	return e.cache.load(tx.Workspace(), rows)
}

// defCache keeps each workspace's parsed and compiled definitions between
// batches: they are parsed again only when a version changes (an edit, a
// build's swap), not twice per batch. Sets are never changed once built,
// so passes on several goroutines share them.
type defCache struct {
	mu sync.Mutex
	ws map[uuid.UUID]cachedSets
}

type cachedSets struct {
	sig string
	s   *stored
}

// load answers rows as fromRows does, reusing the compiled sets when no
// definition or version changed since the last call; the rows themselves
// (build progress) are always the ones given.
func (c *defCache) load(ws uuid.UUID, rows []store.AudienceRow) (*stored, error) {
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\x00%d\x00%d\x00", r.Key, r.Version, r.CurrentVersion)
	}
	sig := b.String()
	c.mu.Lock()
	hit, ok := c.ws[ws]
	c.mu.Unlock()
	if !ok || hit.sig != sig {
		s, err := fromRows(rows)
		if err != nil {
			return nil, err
		}
		hit = cachedSets{sig: sig, s: s}
		c.mu.Lock()
		if c.ws == nil {
			c.ws = map[uuid.UUID]cachedSets{}
		}
		c.ws[ws] = hit
		c.mu.Unlock()
	}
	out := *hit.s
	out.rows = make(map[string]store.AudienceRow, len(rows))
	for _, r := range rows {
		out.rows[r.Key] = r
	}
	return &out, nil
}

// get is the workspace's last compiled sets, or nil.
func (c *defCache) get(ws uuid.UUID) *stored {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hit, ok := c.ws[ws]; ok {
		return hit.s
	}
	return nil
}

// forget drops a workspace's sets (it has no audience left).
func (c *defCache) forget(ws uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ws, ws)
}

// sameSets says whether s and o were compiled from the same versions.
func (s *stored) sameSets(o *stored) bool { return s.cur == o.cur && s.next == o.next }

// feedNeed says which events' JSON the follower must read: those of the
// names and types a leaf with a where clause counts.
func (s *stored) feedNeed() store.FeedNeed {
	names, types := map[string]bool{}, map[string]bool{}
	for _, p := range s.leaves() {
		if len(p.Where) == 0 {
			continue
		}
		if p.Event != "" {
			names[p.Event] = true
		} else {
			types[p.Type] = true
		}
	}
	return store.FeedNeed{Names: setKeys(names), Types: setKeys(types)}
}

func setKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fromRows(rows []store.AudienceRow) (*stored, error) {
	s := &stored{rows: map[string]store.AudienceRow{}, newer: map[string]bool{}, defs: map[string]*Definition{}, curs: map[string]*Definition{}}
	var cur, all []*Definition
	for _, r := range rows {
		s.rows[r.Key] = r
		s.keys = append(s.keys, r.Key)
		d, err := Parse(r.Definition, storedLimits)
		if err != nil {
			return nil, fmt.Errorf("stored audience %q: %w", r.Key, err)
		}
		s.defs[r.Key] = d
		all = append(all, d)
		if r.Building() {
			s.newer[r.Key] = true
		}
		if r.CurrentVersion > 0 {
			c, err := Parse(r.CurrentDef, storedLimits)
			if err != nil {
				return nil, fmt.Errorf("stored audience %q version %d: %w", r.Key, r.CurrentVersion, err)
			}
			s.curs[r.Key] = c
			cur = append(cur, c)
		}
	}
	sort.Strings(s.keys)
	var err error
	if len(cur) > 0 {
		// A current version may refer to an audience whose first build has
		// not ended: that audience's newest definition is evaluated in the
		// current set too (its answers are not recorded, see evaluate), so
		// the reference reads its condition instead of a false that would
		// wrongly take users out.
		for _, r := range rows {
			if r.CurrentVersion == 0 {
				h, err := Parse(r.Definition, storedLimits)
				if err != nil {
					return nil, fmt.Errorf("stored audience %q: %w", r.Key, err)
				}
				cur = append(cur, h)
			}
		}
		if s.cur, err = newSet(cur, true); err != nil {
			return nil, err
		}
	}
	if len(s.newer) > 0 {
		if s.next, err = newSet(all, false); err != nil {
			return nil, err
		}
	}
	s.props = propKeys(s.leaves())
	return s, nil
}

// empty says there is nothing to evaluate.
func (s *stored) empty() bool { return s.cur == nil && s.next == nil }

// leaves is every performed leaf either set reads.
func (s *stored) leaves() map[string]*Performed {
	out := map[string]*Performed{}
	for id, p := range s.extra {
		out[id] = p
	}
	for _, set := range []*Set{s.cur, s.next} {
		if set == nil {
			continue
		}
		for id, p := range set.leaves {
			out[id] = p
		}
	}
	return out
}

// reads says whether any leaf counts events of this type and name.
func (s *stored) reads(typ, name string) bool {
	return (s.cur != nil && s.cur.Reads(typ, name)) || (s.next != nil && s.next.Reads(typ, name))
}

// matching is the leaves of either set an event counts for.
func (s *stored) matching(typ, name string, props map[string]any, ts time.Time) []*Performed {
	var out []*Performed
	seen := map[string]bool{}
	for _, set := range []*Set{s.cur, s.next} {
		if set == nil {
			continue
		}
		for _, p := range set.Matching(typ, name, props, ts) {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// decodeState reads a stored leaf state; a damaged one counts as empty
// rather than stopping every later event of the workspace.
func decodeState(raw string) *LeafState {
	st := &LeafState{}
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return &LeafState{}
	}
	return st
}

func encodeState(st *LeafState) string {
	b, _ := json.Marshal(st)
	return string(b)
}

// profileTraits reads the current trait values out of internal/profiles'
// document ({"traits": {key: {"v": value, …}}}), numbers kept exact.
func profileTraits(doc []byte) map[string]any {
	var d struct {
		Traits map[string]struct {
			V json.RawMessage `json:"v"`
		} `json:"traits"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil
	}
	out := make(map[string]any, len(d.Traits))
	for k, t := range d.Traits {
		if len(t.V) == 0 {
			continue
		}
		v, err := decodeValue(t.V)
		if err == nil {
			out[k] = v
		}
	}
	return out
}
