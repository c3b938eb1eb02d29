package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// eventsScanned bounds the events a branch's performed condition counts:
// the person's newest, under every id of their profile, read a page at a
// time (memory holds one page), so a branch costs at most this many rows.
const eventsScanned = 50_000

// userData is what a step reads of the user: traits, audience
// memberships, and counts for the performed conditions of branches. A nil
// *userData is a user without a profile.
type userData struct {
	key     string
	userID  string
	raw     map[string]json.RawMessage
	decoded map[string]any
	members map[string]audiences.Result
	states  map[string]*audiences.LeafState
}

func (e *Engine) loadUser(ctx context.Context, ws uuid.UUID, userID string, d *Definition) (*userData, error) {
	v, err := profiles.Find(ctx, e.st, ws, store.IdentityUser, userID)
	if errors.Is(err, store.ErrNotFound) {
		return &userData{userID: userID}, nil
	}
	if err != nil {
		return nil, err
	}
	u := &userData{key: v.Key, userID: userID, raw: v.Traits, members: map[string]audiences.Result{}, states: map[string]*audiences.LeafState{}}
	if b, err := json.Marshal(v.Traits); err == nil {
		u.decoded = audiences.DecodeProps(b)
	}
	rows, err := e.st.ProfileAudiences(ctx, ws, v.Key)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		u.members[r.AudienceKey] = audiences.Result{Member: r.Member}
	}
	var leaves []*audiences.Performed
	d.Walk(func(s *Step, _ string, _ int) {
		if s.Branch != nil {
			s.Branch.If.Walk(func(n *audiences.Node) {
				if n.Kind == audiences.KindPerformed {
					leaves = append(leaves, n.Performed)
				}
			})
		}
	})
	if len(leaves) == 0 {
		return u, nil
	}
	sc, err := profiles.ScopeOf(ctx, e.st, ws, store.IdentityUser, userID)
	if err != nil {
		return nil, err
	}
	var before *store.EventCursor
	for scanned := 0; scanned < eventsScanned; {
		page, err := e.st.ListProfileEvents(ctx, ws, sc.Events, before, store.MaxEventPage)
		if err != nil {
			return nil, err
		}
		u.count(page.Events, leaves)
		scanned += len(page.Events)
		if page.Older == nil || len(page.Events) == 0 {
			break
		}
		before = page.Older
	}
	return u, nil
}

// count adds the events matching each performed leaf to its state.
func (u *userData) count(events []store.ListedEvent, leaves []*audiences.Performed) {
	for _, ev := range events {
		ts := ev.ReceivedAt
		if ev.Timestamp != nil {
			ts = *ev.Timestamp
		}
		var props map[string]any
		for _, p := range leaves {
			if p.Event != "" && (ev.Type != "track" || ev.Event != p.Event) || p.Type != "" && ev.Type != p.Type {
				continue
			}
			if props == nil {
				props = properties(ev.Raw)
			}
			if !p.Matches(props, ts) {
				continue
			}
			st := u.states[p.ID]
			if st == nil {
				st = &audiences.LeafState{}
				u.states[p.ID] = st
			}
			st.Add(ts, p.Keep())
		}
	}
}

func (u *userData) traits() map[string]any {
	if u == nil {
		return nil
	}
	return u.decoded
}

func (u *userData) rawTraits() map[string]json.RawMessage {
	if u == nil || u.raw == nil {
		return map[string]json.RawMessage{}
	}
	return u.raw
}

func (u *userData) member(audience string) bool {
	return u != nil && u.members[audience].Member
}

// holds evaluates a branch's condition the way audiences do.
func (u *userData) holds(b *Branch, now time.Time) bool {
	if u == nil {
		u = &userData{}
	}
	sub := &audiences.Subject{Key: u.key, UserID: u.userID, Traits: u.decoded, States: u.states}
	return audiences.EvaluateCondition(b.If, sub, now, u.members)
}
