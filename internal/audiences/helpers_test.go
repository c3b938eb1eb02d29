package audiences_test

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/audiences"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/timers"
)

type body map[string]any

// clock is a settable time shared by the engine and the timers.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// world is one workspace with the real profile follower, audience engine
// and timer worker, driven step by step by the test.
type world struct {
	t     testing.TB
	st    *store.Store
	ws    uuid.UUID
	prof  *profiles.Follower
	eng   *audiences.Engine
	tim   *timers.Worker
	clock *clock
}

func newWorld(t testing.TB, st *store.Store, now time.Time) *world {
	t.Helper()
	ws, err := st.CreateWorkspace(context.Background(), "w "+uuid.NewString()[:8])
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: now}
	eng := audiences.NewEngine(st, audiences.Options{Now: c.Now, BuildPage: 3})
	tim := timers.New(st, timers.Options{Now: c.Now})
	tim.Register(audiences.TimerKind, eng.FireTimers)
	return &world{t: t, st: st, ws: ws.ID, prof: profiles.NewFollower(st, profiles.Options{Batch: 7, Handoff: eng}), eng: eng, tim: tim, clock: c}
}

// send stores events the way the webhook does (parsed by the real parser).
func (w *world) send(bodies ...body) {
	w.t.Helper()
	raw, err := json.Marshal(bodies)
	if err != nil {
		w.t.Fatal(err)
	}
	evs, err := segment.Parse(raw)
	if err != nil {
		w.t.Fatalf("parse: %v", err)
	}
	out := make([]store.NewEvent, len(evs))
	for i, e := range evs {
		out[i] = store.NewEvent{WorkspaceID: w.ws, MessageID: e.MessageID, Type: e.Type, Event: e.Event,
			UserID: e.UserID, AnonymousID: e.AnonymousID, GroupID: e.GroupID, PreviousID: e.PreviousID,
			Timestamp: e.Timestamp, ReceivedAt: w.clock.Now(), Source: "webhook", Raw: e.Raw}
	}
	if _, err := w.st.InsertEvents(context.Background(), out); err != nil {
		w.t.Fatalf("insert: %v", err)
	}
}

// settle applies every stored event to profiles, then to audiences, and
// fires the timers due by the clock.
func (w *world) settle() {
	w.t.Helper()
	ctx := context.Background()
	if _, err := w.prof.CatchUp(ctx, w.ws); err != nil {
		w.t.Fatalf("profiles catch up: %v", err)
	}
	if err := w.eng.CatchUp(ctx, w.ws); err != nil {
		w.t.Fatalf("audiences catch up: %v", err)
	}
	for {
		n, err := w.tim.Fire(ctx)
		if err != nil {
			w.t.Fatalf("timers: %v", err)
		}
		if n == 0 {
			return
		}
	}
}

func (w *world) create(def string) store.AudienceRow {
	w.t.Helper()
	r, err := w.eng.Create(context.Background(), w.ws, []byte(def))
	if err != nil {
		w.t.Fatalf("create %s: %v", def, err)
	}
	return r
}

// members lists an audience's current members by profile key.
func (w *world) members(key string) []string {
	w.t.Helper()
	ctx := context.Background()
	a, err := w.st.Audience(ctx, w.ws, key)
	if err != nil {
		w.t.Fatal(err)
	}
	rows, err := w.st.AudienceMembersPage(ctx, w.ws, key, a.CurrentVersion, "", 10000)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ProfileKey)
	}
	sort.Strings(out)
	return out
}

// transitions lists the emitted Audience Entered/Exited events.
func (w *world) transitions() []transition {
	w.t.Helper()
	evs, err := w.st.ReadFeed(context.Background(), w.ws, store.FeedCursor{}, store.MaxFeedBatch)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []transition
	for _, e := range evs {
		if e.Source != audiences.Source {
			continue
		}
		var raw struct {
			Properties map[string]any `json:"properties"`
		}
		_ = json.Unmarshal(e.Raw, &raw)
		out = append(out, transition{Event: e.Event, UserID: e.UserID, AnonymousID: e.AnonymousID, MessageID: e.MessageID,
			Timestamp: *e.Timestamp, Props: raw.Properties})
	}
	return out
}

type transition struct {
	Event, UserID, AnonymousID, MessageID string
	Timestamp                             time.Time
	Props                                 map[string]any
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
