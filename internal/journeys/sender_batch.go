package journeys

import (
	"context"
	"encoding/json"
	"errors"
	"net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// passCache holds what a pass reads once per workspace rather than once
// per email: settings, templates (compiled) and subscription groups.
type passCache struct {
	settings  map[uuid.UUID]wsSettings
	templates map[string]*cachedTemplate // workspace \x00 key
	groups    map[string]*store.SubscriptionGroup
}

func newPassCache() *passCache {
	return &passCache{settings: map[uuid.UUID]wsSettings{}, templates: map[string]*cachedTemplate{}, groups: map[string]*store.SubscriptionGroup{}}
}

// wsSettings is a workspace's effective SMTP server and cap.
type wsSettings struct {
	srv     email.Server
	capping config.FrequencyCap
}

type cachedTemplate struct {
	tpl      store.EmailTemplate
	compiled *email.Compiled
	err      error // the template does not parse
}

// facts is what a batch's checks read about its users, in a few queries.
type facts struct {
	suppressed map[string]bool            // HashID(user)
	subs       map[string]map[string]bool // user → group → subscribed
	traits     map[string]map[string]json.RawMessage
	bounced    map[string]bool // lower-cased address
	events     map[int64]string
}

// prepare checks a claimed batch and renders what is to be sent: sends
// that must not go out are recorded at once (skipped, failed, or queued
// again), the rest are reserved (the frequency cap) and returned as jobs.
func (s *sender) prepare(ctx context.Context, ms []store.Message, now time.Time) ([]job, error) {
	byWS := map[uuid.UUID][]store.Message{}
	var order []uuid.UUID
	for _, m := range ms {
		if byWS[m.WorkspaceID] == nil {
			order = append(order, m.WorkspaceID)
		}
		byWS[m.WorkspaceID] = append(byWS[m.WorkspaceID], m)
	}
	var jobs []job
	for _, ws := range order {
		js, err := s.prepareWS(ctx, ws, byWS[ws], now)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, js...)
	}
	return jobs, nil
}

func (s *sender) prepareWS(ctx context.Context, ws uuid.UUID, ms []store.Message, now time.Time) ([]job, error) {
	f, err := s.facts(ctx, ws, ms)
	if err != nil {
		return nil, err
	}
	set, err := s.settings(ctx, ws)
	if err != nil {
		return nil, err
	}
	var done []store.Outcome
	var rs []store.Reservation
	var pending []job
	end := func(m store.Message, status, reason, to, reply string) {
		done = append(done, store.Outcome{Message: m, Status: status, Reason: reason, To: to, Reply: reply, At: now})
	}
	for _, m := range ms {
		if f.suppressed[profiles.HashID(store.IdentityUser, m.UserID)] {
			end(m, "skipped", "erased", "", "")
			continue
		}
		ct, err := s.template(ctx, ws, m.Template)
		if errors.Is(err, store.ErrNotFound) {
			end(m, "failed", "template_missing", "", "")
			continue
		}
		if err != nil {
			return nil, err
		}
		group := m.Group != "" && !ct.tpl.Transactional
		if m.Group != "" {
			ok, err := s.subscribed(ctx, ws, f.subs[m.UserID], m.Group)
			if err != nil {
				return nil, err
			}
			if !ok {
				end(m, "skipped", "unsubscribed", "", "")
				continue
			}
		}
		to := address(f.traits[m.UserID]["email"])
		if to == "" {
			end(m, "skipped", "no_email", "", "")
			continue
		}
		if f.bounced[strings.ToLower(to)] {
			end(m, "skipped", "bounced", to, "")
			continue
		}
		if !set.srv.Configured() {
			done = append(done, s.retry(m, m.Attempts+1, "no SMTP server or From address configured", now))
			continue
		}
		if ct.err != nil {
			end(m, "failed", "render", to, ct.err.Error())
			continue
		}
		var event map[string]any
		if raw := f.events[m.InstanceID]; raw != "" {
			_ = json.Unmarshal([]byte(raw), &event)
		}
		unsub := ""
		if group {
			if unsub, err = s.e.email.UnsubscribeURL(ctx, ws, m.UserID, m.Group); err != nil {
				return nil, err
			}
		}
		out, err := ct.compiled.Render(email.Vars(m.UserID, f.traits[m.UserID], event, "", unsub))
		if err != nil {
			end(m, "failed", "render", to, err.Error())
			continue
		}
		capN := 0
		if group {
			capN = set.capping.N // transactional mail is never capped
		}
		rs = append(rs, store.Reservation{Message: m, To: to, CapN: capN, Period: set.capping.Period})
		pending = append(pending, job{m: m, srv: set.srv, claimed: now, msg: email.Message{To: to, Subject: out.Subject,
			HTML: out.HTML, Text: out.Text, ID: MessageID(ws, m.SendKey), Unsubscribe: unsub}})
	}
	if err := s.e.st.RecordOutcomes(ctx, done); err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, nil
	}
	ok, err := s.e.st.ReserveSends(ctx, rs, now)
	if err != nil {
		return nil, err
	}
	jobs := pending[:0]
	for i, j := range pending {
		if ok[i] {
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// facts reads, for a batch of one workspace, who is erased, their
// subscription choices, their traits, which addresses bounced and the
// instances' triggering events.
func (s *sender) facts(ctx context.Context, ws uuid.UUID, ms []store.Message) (facts, error) {
	st := s.e.st
	users, hashes, ids := make([]string, 0, len(ms)), make([]string, 0, len(ms)), make([]int64, 0, len(ms))
	seen := map[string]bool{}
	for _, m := range ms {
		if m.InstanceID != 0 {
			ids = append(ids, m.InstanceID)
		}
		if !seen[m.UserID] {
			seen[m.UserID] = true
			users = append(users, m.UserID)
			hashes = append(hashes, profiles.HashID(store.IdentityUser, m.UserID))
		}
	}
	f := facts{traits: map[string]map[string]json.RawMessage{}}
	var err error
	if f.suppressed, err = st.SuppressedAmong(ctx, ws, hashes); err != nil {
		return f, err
	}
	if f.subs, err = st.SubscriptionsOf(ctx, ws, users); err != nil {
		return f, err
	}
	rows, err := st.ProfilesOfUsers(ctx, ws, users)
	if err != nil {
		return f, err
	}
	list := make([]store.ProfileRow, 0, len(rows))
	of := make([]string, 0, len(rows))
	for u, r := range rows {
		list, of = append(list, r), append(of, u)
	}
	views, err := profiles.Views(ctx, st, ws, list)
	if err != nil {
		return f, err
	}
	var addrs []string
	for i, v := range views {
		f.traits[of[i]] = v.Traits
		if a := address(v.Traits["email"]); a != "" {
			addrs = append(addrs, a)
		}
	}
	if f.bounced, err = st.BouncedAmong(ctx, ws, addrs); err != nil {
		return f, err
	}
	f.events, err = st.InstanceEvents(ctx, ids)
	return f, err
}

// settings reads a workspace's settings once per pass.
func (s *sender) settings(ctx context.Context, ws uuid.UUID) (wsSettings, error) {
	c := s.passCache()
	if set, ok := c.settings[ws]; ok {
		return set, nil
	}
	srv, fc, err := s.e.email.Effective(ctx, ws)
	if err != nil {
		return wsSettings{}, err
	}
	set := wsSettings{srv: srv, capping: fc}
	c.settings[ws] = set
	return set, nil
}

// template reads and compiles a template once per pass.
func (s *sender) template(ctx context.Context, ws uuid.UUID, key string) (*cachedTemplate, error) {
	c := s.passCache()
	k := ws.String() + "\x00" + key
	if ct, ok := c.templates[k]; ok {
		return ct, nil
	}
	tpl, err := s.e.st.EmailTemplate(ctx, ws, key)
	if err != nil {
		return nil, err
	}
	ct := &cachedTemplate{tpl: tpl}
	ct.compiled, ct.err = email.Compile(email.Template{Subject: tpl.Subject, HTML: tpl.HTML, Text: tpl.Text})
	c.templates[k] = ct
	return ct, nil
}

// subscribed is the user's choice for the group (choices: the user's),
// else the group's default.
func (s *sender) subscribed(ctx context.Context, ws uuid.UUID, choices map[string]bool, group string) (bool, error) {
	if sub, ok := choices[group]; ok {
		return sub, nil
	}
	c := s.passCache()
	k := ws.String() + "\x00" + group
	g, ok := c.groups[k]
	if !ok {
		gr, err := s.e.st.SubscriptionGroup(ctx, ws, group)
		switch {
		case err == nil:
			g = &gr
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		}
		c.groups[k] = g
	}
	if g == nil {
		return false, nil // a deleted group sends nothing
	}
	return !g.OptIn, nil
}

// passCache is the current pass's cache; only the producer goroutine
// reads and fills it.
func (s *sender) passCache() *passCache {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cache
}

// address is a trait value that is one valid email address, else "".
func address(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return ""
	}
	return s
}

// MessageID is a send's Message-ID (without its angle brackets): the send
// key, which repeats only with the same send, under the workspace's id, so
// two installations (or a database started afresh, whose instance ids count
// from 1 again) never give two different emails one id — receivers such as
// Gmail drop a second message with an id they have seen.
func MessageID(ws uuid.UUID, sendKey string) string {
	return ws.String() + "." + sendKey + "@inlet"
}
