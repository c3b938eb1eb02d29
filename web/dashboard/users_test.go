package dashboard_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/ingest"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/internal/testdb"
)

// profileDash is the dashboard server with the profile layer as `inlet
// serve` wires it: the suppression gate in front of the store, and a
// follower the test steps explicitly (CatchUp) instead of a timer.
type profileDash struct {
	*webtest.Dash
	WS       store.Workspace
	writeKey string
	follower *profiles.Follower
	supp     *profiles.Suppressions
}

func startProfileDashboard(t *testing.T) *profileDash {
	t.Helper()
	st := testdb.Open(t)
	cfg, err := config.Load(func(k string) string { return map[string]string{"BASE_URL": "http://inlet.test"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deps := webtest.Deps(t, cfg, st, webtest.Logger(t))
	if _, err := deps.Auth.CreateAdmin(ctx, webtest.AdminEmail, webtest.AdminPassword); err != nil {
		t.Fatal(err)
	}
	supp := profiles.NewSuppressions(st)
	deps.Suppressions = supp
	srv, _ := webtest.Open(t, deps, &profiles.Gate{Inner: st, Suppressions: supp}, ingest.Options{Timeout: testdb.Patience(2 * time.Second), Suppress: supp.Filter})
	d := &webtest.Dash{T: t, St: st, Srv: srv, Auth: deps.Auth, URL: "http://" + srv.Addr()}
	d.C = d.NewBrowser()
	ws, err := st.EnsureDefaultWorkspace(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := st.CreateWriteKey(ctx, ws.ID, "tests")
	if err != nil {
		t.Fatal(err)
	}
	return &profileDash{Dash: d, WS: ws, writeKey: key, supp: supp,
		follower: profiles.NewFollower(st, profiles.Options{Suppressions: supp, Logger: webtest.Logger(t), OnMergeRefused: deps.Metrics.MergeRefused})}
}

// send posts a batch to /v1/batch with the write key and waits for the
// profiles to include it.
func (p *profileDash) send(events ...string) {
	p.T.Helper()
	body := `{"batch":[` + strings.Join(events, ",") + `]}`
	req, _ := http.NewRequest(http.MethodPost, p.URL+"/v1/batch", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(p.writeKey+":")))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.T.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		p.T.Fatalf("batch: %d", res.StatusCode)
	}
	if _, err := p.follower.CatchUp(context.Background(), p.WS.ID); err != nil {
		p.T.Fatalf("profiles catch up: %v", err)
	}
}

func ev(typ, msgID, ts string, fields string) string {
	return fmt.Sprintf(`{"type":%q,"messageId":%q,"timestamp":%q,%s}`, typ, msgID, ts, fields)
}

func TestDashboardUsersAndProfilePage(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	ctx := context.Background()
	bigTrait := `{"deep":` + strings.Repeat(`[`, 50) + `"` + strings.Repeat("x", 5000) + `"` + strings.Repeat(`]`, 50) + `}`
	d.send(
		ev("identify", "m-id-1", "2026-01-01T10:00:00Z", `"userId":"user-42","anonymousId":"anon-1","traits":{"email":"ada@example.com","plan":"free","blob":`+bigTrait+`}`),
		ev("identify", "m-id-2", "2026-01-02T10:00:00Z", `"userId":"user-42","traits":{"plan":"pro"}`),
		ev("track", "m-tr-1", "2026-01-03T10:00:00Z", `"userId":"user-42","event":"Order Completed","properties":{"total":42}`),
		ev("group", "m-gr-1", "2026-01-03T11:00:00Z", `"userId":"user-42","groupId":"acme","traits":{"name":"Acme Inc"}`),
		ev("identify", "m-id-3", "2026-01-04T10:00:00Z", `"userId":"user-7","traits":{"email":"bob@example.com"}`),
		ev("page", "m-pg-1", "2026-01-05T10:00:00Z", `"anonymousId":"anon-solo","name":"Home"`),
		ev("identify", "m-id-4", "2026-01-06T10:00:00Z", `"userId":"a/b c%","traits":{"email":"odd@example.com"}`),
	)
	b := d.C
	b.MustSignIn()

	list := b.Get("/dashboard/users")
	if list.Status != 200 {
		t.Fatalf("users: %d %s", list.Status, list.Body)
	}
	if n := list.Doc.Find("#users .user-row").Length(); n != 4 {
		t.Fatalf("users listed: %d, want 4", n)
	}
	if got := list.Text("#users .user-row .user-id"); got != "a/b c%" {
		t.Errorf("newest last seen first: first row %q", got)
	}
	if href := list.Attr(`nav a[href="/dashboard/users"]`, "aria-current"); href != "page" {
		t.Errorf("nav link to users not current: %q", href)
	}

	for q, want := range map[string]string{"ada@example.com": "user-42", "anon-1": "user-42", "user-7": "user-7"} {
		res := b.Get("/dashboard/users?q=" + url.QueryEscape(q))
		rows := res.Doc.Find("#users .user-row")
		if rows.Length() != 1 || strings.TrimSpace(rows.Find(".user-id").Text()) != want {
			t.Errorf("search %q: %d rows, first %q; want %s", q, rows.Length(), strings.TrimSpace(rows.Find(".user-id").Text()), want)
		}
	}
	if res := b.Get("/dashboard/users?q=nobody%40example.com"); res.Doc.Find("#no-users").Length() != 1 {
		t.Errorf("search for nobody: no empty message")
	}
	if res := b.Get("/dashboard/users?q=Acme+Inc&trait=name"); res.Doc.Find("#users .user-row").Length() != 0 {
		t.Errorf("group traits are not user traits")
	}
	if res := b.Get("/dashboard/users?after=garbage"); res.Status != 400 || res.Doc.Find("#page-error").Length() != 1 {
		t.Errorf("bad cursor: %d", res.Status)
	}

	// Keyset pages: 50 per page.
	var many []string
	for i := 0; i < 55; i++ {
		many = append(many, ev("track", fmt.Sprintf("m-many-%d", i), "2025-06-01T10:00:00Z", fmt.Sprintf(`"userId":"bulk-%02d","event":"Seen"`, i)))
	}
	d.send(many...)
	first := b.Get("/dashboard/users")
	if n := first.Doc.Find("#users .user-row").Length(); n != 50 {
		t.Fatalf("first page: %d rows", n)
	}
	second := b.Get(first.Attr("#older", "href"))
	if n := second.Doc.Find("#users .user-row").Length(); n != 59-50 {
		t.Errorf("second page: %d rows, want 9", n)
	}
	if second.Doc.Find("#older").Length() != 0 || second.Attr("#first", "href") != "/dashboard/users" {
		t.Errorf("second page pager wrong")
	}

	// The profile page.
	pg := b.Get("/dashboard/users/user-42")
	if pg.Status != 200 {
		t.Fatalf("profile: %d %s", pg.Status, pg.Body)
	}
	trait := func(key string) (value, setAt, msg string) {
		row := pg.Doc.Find(fmt.Sprintf(`#traits tr.trait[data-key=%q]`, key))
		return strings.TrimSpace(row.Find(".trait-value span").First().Text()), row.Find("time").AttrOr("datetime", ""), strings.TrimSpace(row.Find(".trait-message").Text())
	}
	if v, at, m := trait("plan"); v != "pro" || at != "2026-01-02T10:00:00Z" || m != "m-id-2" {
		t.Errorf("plan trait: %q set %q by %q", v, at, m)
	}
	if v, _, m := trait("email"); v != "ada@example.com" || m != "m-id-1" {
		t.Errorf("email trait: %q by %q", v, m)
	}
	blob, _, _ := trait("blob")
	if len(blob) > 1000 || !strings.HasPrefix(blob, `{"deep":[[[`) || pg.Doc.Find(`tr.trait[data-key="blob"] .trait-cut`).Length() != 1 {
		t.Errorf("big trait not cut: %d bytes shown", len(blob))
	}
	anonRow := pg.Doc.Find(`#identities tr.identity[data-kind="anonymousId"]`)
	if strings.TrimSpace(anonRow.Find(".identity-id").Text()) != "anon-1" || !strings.Contains(anonRow.Find(".identity-why").Text(), "together with the userId") {
		t.Errorf("identity anon-1: %q", anonRow.Text())
	}
	if g := pg.Text("#groups-section .group-id"); g != "acme" || !strings.Contains(pg.Text("#group-traits-0"), "Acme Inc") {
		t.Errorf("group: %q", g)
	}
	if c := pg.Text(`#type-counts li[data-type="identify"] .count`); c != "2" {
		t.Errorf("identify count %q", c)
	}
	if n := pg.Text("#event-names .event-name"); n != "Order Completed" {
		t.Errorf("event names: %q", n)
	}
	if n := pg.Doc.Find("#timeline tr.event-row").Length(); n != 4 {
		t.Errorf("timeline: %d events, want 4", n)
	}
	if first := pg.Text("#timeline tr.event-row .event-type"); first != "group" {
		t.Errorf("timeline newest first: %q", first)
	}
	if !strings.Contains(pg.Text("#timeline pre.raw-json"), `"groupId": "acme"`) {
		t.Errorf("timeline raw JSON: %q", pg.Text("#timeline pre.raw-json"))
	}

	// An anonymous id of a known user leads to the user; an anonymous-only
	// profile has a page of its own.
	if r := b.Get("/dashboard/anonymous/anon-1"); r.Status != 303 || r.Header.Get("Location") != "/dashboard/users/user-42" {
		t.Errorf("anon-1: %d %q", r.Status, r.Header.Get("Location"))
	}
	solo := b.Get("/dashboard/anonymous/anon-solo")
	if solo.Status != 200 || !strings.Contains(solo.Text("#profile-heading"), "anon-solo") || solo.Doc.Find("#timeline tr.event-row").Length() != 1 {
		t.Errorf("anon-solo: %d %q", solo.Status, solo.Text("#profile-heading"))
	}
	if r := b.Get("/dashboard/users/nobody"); r.Status != 404 || r.Doc.Find("#no-profile").Length() != 1 {
		t.Errorf("unknown user: %d", r.Status)
	}
	// An id with a slash, a space and a percent sign round-trips.
	odd := list.Attr(`#users .user-row a.user-link`, "href")
	if r := b.Get(odd); r.Status != 200 || r.Text("#profile-heading") != "a/b c%" {
		t.Errorf("odd id via %q: %d %q", odd, r.Status, r.Text("#profile-heading"))
	}

	// The events page links users to their pages and exports its filter.
	evp := b.Get("/dashboard/events?user=user-42")
	if href := evp.Attr("#events a.user-profile", "href"); href != "/dashboard/users/user-42" {
		t.Errorf("events page user link: %q", href)
	}
	if href := evp.Attr("#export-link", "href"); href != "/dashboard/events/export?user=user-42" {
		t.Errorf("export link: %q", href)
	}
	exp := b.Get(evp.Attr("#export-link", "href"))
	if exp.Status != 200 || exp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("export: %d %s", exp.Status, exp.Header.Get("Content-Type"))
	}
	lines := 0
	sc := bufio.NewScanner(bytes.NewReader(exp.Body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil || m["messageId"] == nil {
			t.Errorf("export line %d: %v %s", lines, err, sc.Text())
		}
		lines++
	}
	if lines != 4 {
		t.Errorf("export: %d lines, want 4", lines)
	}
	if r := b.Get("/dashboard/events/export?type=nope"); r.Status != 400 {
		t.Errorf("export with a bad filter: %d", r.Status)
	}
	if r := d.NewBrowser().Get("/dashboard/events/export"); r.Status != 303 {
		t.Errorf("export without a session: %d", r.Status)
	}

	// Timeline pages.
	var tracks []string
	for i := 0; i < 60; i++ {
		tracks = append(tracks, ev("track", fmt.Sprintf("m-t-%d", i), "2026-02-01T10:00:00Z", `"anonymousId":"anon-1","event":"Clicked"`))
	}
	d.send(tracks...)
	pg = b.Get("/dashboard/users/user-42")
	if n := pg.Doc.Find("#timeline tr.event-row").Length(); n != 50 {
		t.Fatalf("timeline page 1: %d", n)
	}
	older := b.Get(pg.Attr("#older", "href"))
	if n := older.Doc.Find("#timeline tr.event-row").Length(); n != 14 || older.Doc.Find("#newest").Length() != 1 {
		t.Errorf("timeline page 2: %d events", n)
	}

	// Delete: the confirmation is required.
	refused := b.Submit(pg, "#delete-form", url.Values{"suppress": {"yes"}})
	if refused.Status != 422 || refused.Doc.Find("#delete-error").Length() != 1 {
		t.Fatalf("delete without confirmation: %d", refused.Status)
	}
	if s, _ := d.St.ListEvents(ctx, store.EventFilter{WorkspaceID: d.WS.ID, User: "user-42"}); len(s.Events) == 0 {
		t.Fatal("refused delete deleted events")
	}
	del := b.Submit(pg, "#delete-form", url.Values{"suppress": {"yes"}, "confirm": {"yes"}})
	if del.Status != 303 || del.Header.Get("Location") != "/dashboard/users/user-42" {
		t.Fatalf("delete: %d %q %s", del.Status, del.Header.Get("Location"), del.Body)
	}
	after := b.Follow(del)
	if after.Doc.Find("#suppressed").Length() != 1 || after.Doc.Find("#no-profile").Length() != 1 || !strings.Contains(after.Text("#flash"), "64 events") {
		t.Errorf("after delete: suppressed=%d flash=%q", after.Doc.Find("#suppressed").Length(), after.Text("#flash"))
	}
	for _, id := range []string{"user-42", "anon-1"} {
		if s, _ := d.St.ListEvents(ctx, store.EventFilter{WorkspaceID: d.WS.ID, User: id}); len(s.Events) != 0 {
			t.Errorf("events of %s left: %d", id, len(s.Events))
		}
	}
	if s, _ := d.St.ListEvents(ctx, store.EventFilter{WorkspaceID: d.WS.ID, User: "user-7"}); len(s.Events) != 1 {
		t.Errorf("another user's events touched")
	}
	// Later events of the erased ids are acknowledged and not stored.
	d.send(ev("track", "m-late", "2026-03-01T10:00:00Z", `"userId":"user-42","event":"Late"`))
	if s, _ := d.St.ListEvents(ctx, store.EventFilter{WorkspaceID: d.WS.ID, User: "user-42"}); len(s.Events) != 0 {
		t.Errorf("suppressed user's event stored")
	}
	lifted := b.Follow(b.Submit(after, "#unsuppress-form", nil))
	if lifted.Doc.Find("#suppressed").Length() != 0 || !strings.Contains(lifted.Text("#flash"), "lifted") {
		t.Errorf("after lifting: %q", lifted.Text("#flash"))
	}
	d.send(ev("track", "m-later", "2026-03-02T10:00:00Z", `"userId":"user-42","event":"Back"`))
	if back := b.Get("/dashboard/users/user-42"); back.Status != 200 || back.Doc.Find("#timeline tr.event-row").Length() != 1 {
		t.Errorf("after lifting, a new event makes a new profile: %d", back.Status)
	}

	// Delete without suppression: nothing suppressed afterwards.
	pg7 := b.Get("/dashboard/users/user-7")
	gone := b.Follow(b.Submit(pg7, "#delete-form", url.Values{"confirm": {"yes"}}))
	if gone.Doc.Find("#suppressed").Length() != 0 || gone.Status != 404 {
		t.Errorf("delete without suppression: %d suppressed=%d", gone.Status, gone.Doc.Find("#suppressed").Length())
	}
	// A form without its CSRF token is refused.
	if r := b.Post("/dashboard/users/user-7/delete", url.Values{"workspace_id": {d.WS.ID.String()}, "confirm": {"yes"}}); r.Status != 403 {
		t.Errorf("delete without CSRF: %d", r.Status)
	}
}

func TestDashboardAPITokens(t *testing.T) {
	t.Parallel()
	d := startProfileDashboard(t)
	d.send(ev("identify", "m-1", "2026-01-01T10:00:00Z", `"userId":"user-7","traits":{"email":"bob@example.com"}`))
	b := d.C
	settings := b.MustSignIn()
	if settings.Doc.Find("#api-tokens #api-token-form").Length() != 1 || settings.Doc.Find("#no-api-tokens").Length() != 1 {
		t.Fatal("no API tokens section")
	}
	if r := b.Submit(settings, "#api-token-form", url.Values{"name": {""}, "scope": {"read"}}); r.Status != 422 || r.Doc.Find("#api-token-name-error").Length() != 1 {
		t.Errorf("empty name: %d", r.Status)
	}
	if r := b.Submit(settings, "#api-token-form", url.Values{"name": {"x"}, "scope": {"admin"}}); r.Status != 422 || r.Doc.Find("#api-token-scope-error").Length() != 1 {
		t.Errorf("bad scope: %d", r.Status)
	}
	for _, bad := range []string{"2020-01-01", "next week", time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")} {
		r := b.Submit(settings, "#api-token-form", url.Values{"name": {"x"}, "scope": {"read"}, "expires": {bad}})
		if r.Status != 422 || r.Doc.Find("#api-token-expires-error").Length() != 1 || r.Attr("#api-token-expires", "value") != bad {
			t.Errorf("expiry %q: %d", bad, r.Status)
		}
	}
	created := b.Submit(settings, "#api-token-form", url.Values{"name": {"crm-sync"}, "scope": {"write"}})
	if created.Status != 303 || !strings.HasSuffix(created.Header.Get("Location"), "#api-tokens") {
		t.Fatalf("create: %d %q", created.Status, created.Header.Get("Location"))
	}
	shown := b.Follow(created)
	token := shown.Attr("#api-tokens #new-token", "value")
	if !strings.HasPrefix(token, store.APITokenPrefix) || shown.Doc.Find(`#api-tokens button[data-copy="#new-token"]`).Length() != 1 {
		t.Fatalf("new token not shown: %q", token)
	}
	if cc := shown.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("page with the token is cacheable: %q", cc)
	}
	if strings.Contains(string(shown.Body), token) && strings.Count(string(shown.Body), token) != 1 {
		t.Errorf("token printed more than once")
	}
	row := shown.Doc.Find("#api-token-list tr.api-token").First()
	if strings.TrimSpace(row.Find(".token-name").Text()) != "crm-sync" || strings.TrimSpace(row.Find(".token-scope").Text()) != "write" ||
		!strings.HasPrefix(token, strings.TrimSuffix(strings.TrimSpace(row.Find(".token-prefix").Text()), "…")) {
		t.Errorf("token row: %q", row.Text())
	}
	// A reload shows the list, never the token again.
	if again := b.Get("/dashboard/settings"); again.Doc.Find("#new-token").Length() != 0 || strings.Contains(string(again.Body), token) {
		t.Errorf("token shown again on reload")
	}
	// Stored hashed: the plaintext is nowhere in the tokens table.
	toks, _ := d.St.APITokens(context.Background(), d.WS.ID)
	if len(toks) != 1 {
		t.Fatalf("tokens: %d", len(toks))
	}

	apiGet := func(path string) int {
		req, _ := http.NewRequest(http.MethodGet, d.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if code := apiGet("/api/v1/users/user-7"); code != 200 {
		t.Errorf("API with the new token: %d", code)
	}
	list := b.Get("/dashboard/settings")
	id := list.Attr("#api-token-list tr.api-token", "data-token-id")
	if r := b.Submit(list, "#api-token-"+id+" .revoke-token-form", nil); r.Status != 422 {
		t.Errorf("revoke without confirmation: %d", r.Status)
	}
	if code := apiGet("/api/v1/users/user-7"); code != 200 {
		t.Errorf("refused revoke revoked: %d", code)
	}
	rev := b.Submit(list, "#api-token-"+id+" .revoke-token-form", url.Values{"confirm": {"yes"}})
	if rev.Status != 303 {
		t.Fatalf("revoke: %d", rev.Status)
	}
	if p := b.Follow(rev); !strings.Contains(p.Text("#api-token-"+id+" .token-status"), "Revoked") {
		t.Errorf("revoked token status: %q", p.Text("#api-token-"+id+" .token-status"))
	}
	if code := apiGet("/api/v1/users/user-7"); code != 401 {
		t.Errorf("API with a revoked token: %d", code)
	}
}

// postWithKey sends body to a Tracking API path with a write key.
func postWithKey(t *testing.T, base, path, key, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(key+":")))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("%s: %d %s", path, res.StatusCode, b)
	}
}

// postSigned sends body to the webhook of ws, signed with secret.
func postSigned(t *testing.T, base string, ws store.Workspace, secret, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/public/webhooks/segment?workspaceId="+ws.ID.String(), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", webtest.Sign(secret, []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("webhook: %d %s", res.StatusCode, b)
	}
}

// apiUser is GET /api/v1/users/{id} as the test reads it.
type apiUser struct {
	UserID        *string  `json:"userId"`
	AnonymousIDs  []string `json:"anonymousIds"`
	Aliases       []string `json:"aliases"`
	EventCount    int64    `json:"eventCount"`
	IdentityCount int64    `json:"identityCount"`
	Identities    []struct {
		Kind, ID string
	} `json:"identities"`
	MergeRefusals []struct {
		Message, OtherID, Reason string
	} `json:"mergeRefusals"`
	MergeRefusalsTotal int64 `json:"mergeRefusalsTotal"`
}

func getAPIUser(t *testing.T, base, token, id string) apiUser {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/users/"+url.PathEscape(id), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET user %s: %d %s", id, res.StatusCode, b)
	}
	var u apiUser
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatalf("user %s: %v", id, err)
	}
	return u
}

// refusedWith reports whether u says "merge refused" with other.
func (u apiUser) refusedWith(other string) bool {
	for _, r := range u.MergeRefusals {
		if r.OtherID == other && strings.HasPrefix(r.Message, "merge refused with "+other) {
			return true
		}
	}
	return false
}

// Forged merges through the running server: a client write key's
// /v1/alias cannot merge two users who have events (3,000 attempts in
// batches, and one single call), every refusal shows on both profiles'
// pages and API answers, in the warnings and /metrics, the pages of the
// attacked profiles still answer; the signed webhook's alias does merge.
func TestForgedAliasesAreRefused(t *testing.T) {
	d := startProfileDashboard(t)
	ctx := context.Background()
	const secret = "whsec-forged-alias-test"
	if err := d.St.SetSecret(ctx, d.WS.ID, secret, "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	d.Srv.InvalidateWorkspace()
	_, token, err := d.St.CreateAPIToken(ctx, d.WS.ID, "reader", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	const victims = 3000
	var batch []string
	flush := func(key string) {
		if len(batch) > 0 {
			postWithKey(t, d.URL, "/v1/batch", key, `{"batch":[`+strings.Join(batch, ",")+`]}`)
			batch = batch[:0]
		}
	}
	batch = append(batch,
		ev("identify", "a-1", "2026-01-01T10:00:00Z", `"userId":"alice","traits":{"email":"alice@example.com"}`),
		ev("identify", "m-1", "2026-01-01T10:00:01Z", `"userId":"mallory","traits":{"email":"mallory@example.com"}`),
		ev("identify", "b-1", "2026-01-01T10:00:02Z", `"userId":"bob"`),
		ev("page", "v-1", "2026-01-01T10:00:03Z", `"anonymousId":"visitor-1","name":"Home"`))
	for i := range victims {
		batch = append(batch, ev("identify", fmt.Sprintf("vi-%d", i), "2026-01-01T11:00:00Z", fmt.Sprintf(`"userId":"victim-%d"`, i)))
		if len(batch) == 500 {
			flush(d.writeKey)
		}
	}
	flush(d.writeKey)
	for i := range victims {
		batch = append(batch, ev("alias", fmt.Sprintf("forge-%d", i), "2026-01-02T10:00:00Z", fmt.Sprintf(`"previousId":"victim-%d","userId":"mallory"`, i)))
		if len(batch) == 500 {
			flush(d.writeKey)
		}
	}
	flush(d.writeKey)
	// One more through /v1/alias itself, and the legit use of a client key:
	// an anonymous visitor signs up.
	postWithKey(t, d.URL, "/v1/alias", d.writeKey, `{"messageId":"forge-alice","previousId":"alice","userId":"mallory","timestamp":"2026-01-02T11:00:00Z"}`)
	postWithKey(t, d.URL, "/v1/alias", d.writeKey, `{"messageId":"signup","previousId":"visitor-1","userId":"mallory","timestamp":"2026-01-02T11:00:01Z"}`)
	if _, err := d.follower.CatchUp(ctx, d.WS.ID); err != nil {
		t.Fatal(err)
	}

	alice := getAPIUser(t, d.URL, token, "alice")
	if alice.UserID == nil || *alice.UserID != "alice" || alice.EventCount != 1 {
		t.Fatalf("alice answers another profile after a forged alias: %+v", alice)
	}
	if !alice.refusedWith("mallory") {
		t.Errorf("alice's answer does not say merge refused with mallory: %+v", alice.MergeRefusals)
	}
	if v := getAPIUser(t, d.URL, token, "victim-2999"); v.UserID == nil || *v.UserID != "victim-2999" || !v.refusedWith("mallory") {
		t.Errorf("victim-2999: %+v", v)
	}
	mallory := getAPIUser(t, d.URL, token, "mallory")
	// Her identify, her 3,001 aliases, the signup alias and the visitor's page.
	if mallory.UserID == nil || *mallory.UserID != "mallory" || mallory.EventCount != 1+victims+1+2 {
		t.Errorf("mallory: userId %v, %d events; want her own %d", mallory.UserID, mallory.EventCount, 1+victims+1+2)
	}
	if mallory.MergeRefusalsTotal != victims+1 || !mallory.refusedWith("alice") {
		t.Errorf("mallory's refusals: %d in all, alice among the newest: %v", mallory.MergeRefusalsTotal, mallory.refusedWith("alice"))
	}
	if len(mallory.AnonymousIDs) != 1 || mallory.AnonymousIDs[0] != "visitor-1" {
		t.Errorf("mallory's anonymous ids %v: want only the visitor who signed up", mallory.AnonymousIDs)
	}

	b := d.C
	b.MustSignIn()
	for _, who := range []struct{ page, other string }{{"alice", "mallory"}, {"mallory", "alice"}, {"victim-7", "mallory"}} {
		pg := b.Get("/dashboard/users/" + who.page)
		if pg.Status != 200 {
			t.Fatalf("page of %s: %d", who.page, pg.Status)
		}
		li := pg.Doc.Find(fmt.Sprintf(`#merge-refusals li.merge-refusal[data-other=%q]`, who.other))
		if li.Length() != 1 || !strings.Contains(li.Text(), "merge refused") {
			t.Errorf("page of %s: no \"merge refused\" with %s: %q", who.page, who.other, pg.Text("#merge-refusals-section"))
		}
	}
	users := b.Get("/dashboard/users")
	if got := users.Text("#identity-warnings-link"); got != fmt.Sprintf("Identity warnings (%d)", victims+1) {
		t.Errorf("users page link: %q", got)
	}
	warn := b.Get(users.Attr("#identity-warnings-link", "href"))
	if warn.Status != 200 || warn.Doc.Find("#merge-warnings tr.merge-warning").Length() != 100 || warn.Doc.Find("#warnings-next").Length() != 1 {
		t.Errorf("warnings page: %d, %d rows", warn.Status, warn.Doc.Find("#merge-warnings tr.merge-warning").Length())
	}
	if !strings.Contains(warn.Text("#merge-warnings tr.merge-warning"), "merge refused") {
		t.Errorf("warning row: %q", warn.Text("#merge-warnings tr.merge-warning"))
	}
	met := b.Get("/metrics")
	if !strings.Contains(string(met.Body), fmt.Sprintf(`inlet_profiles_merges_refused_total{reason="untrusted"} %d`, victims+1)) {
		t.Errorf("metrics: no refused-merge count of %d in\n%s", victims+1, grepLines(string(met.Body), "merges_refused"))
	}

	// The signed webhook is trusted: its alias merges alice into bob.
	postSigned(t, d.URL, d.WS, secret, ev("alias", "legit", "2026-01-03T10:00:00Z", `"previousId":"alice","userId":"bob"`))
	if _, err := d.follower.CatchUp(ctx, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	if u := getAPIUser(t, d.URL, token, "alice"); u.UserID == nil || *u.UserID != "bob" || len(u.Aliases) != 1 || u.Aliases[0] != "alice" {
		t.Errorf("after the signed alias, alice answers %+v; want bob's profile with alias alice", u)
	}
	pg := b.Get("/dashboard/users/bob")
	if row := pg.Doc.Find(`#identities tr.identity[data-kind="alias (former userId)"]`); strings.TrimSpace(row.Find(".identity-id").Text()) != "alice" {
		t.Errorf("bob's page does not show alice as a former userId: %q", pg.Text("#identities"))
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// A profile of thousands of identities (a trusted source, a high limit):
// its page lists them in pages, its timeline reads every one, the API
// answers bounded; nothing answers 500.
func TestHugeProfilePages(t *testing.T) {
	d := startProfileDashboard(t)
	ctx := context.Background()
	const secret = "whsec-huge-profile-test"
	if err := d.St.SetSecret(ctx, d.WS.ID, secret, "test", time.Hour); err != nil {
		t.Fatal(err)
	}
	d.Srv.InvalidateWorkspace()
	_, token, err := d.St.CreateAPIToken(ctx, d.WS.ID, "reader", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	// 3,000 ids; under the race detector on SQLite (transpiled C, fully
	// instrumented, ~100x slower) 450, still past a page of identities and a
	// timeline query's 400 branches.
	n := 3000
	if testdb.SlowStore() {
		n = 450
	}
	var batch []string
	for i := range n {
		batch = append(batch,
			ev("track", fmt.Sprintf("t-%d", i), fmt.Sprintf("2026-01-01T10:%02d:%02dZ", i/60%60, i%60), fmt.Sprintf(`"userId":"member-%04d","event":"Seen"`, i)),
			ev("alias", fmt.Sprintf("al-%d", i), "2026-01-02T10:00:00Z", fmt.Sprintf(`"previousId":"member-%04d","userId":"hub"`, i)))
		if len(batch) >= 1000 {
			postSigned(t, d.URL, d.WS, secret, "["+strings.Join(batch, ",")+"]")
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		postSigned(t, d.URL, d.WS, secret, "["+strings.Join(batch, ",")+"]")
	}
	big := profiles.NewFollower(d.St, profiles.Options{MaxUserIDs: 10 * n, Logger: webtest.Logger(t)})
	if _, err := big.CatchUp(ctx, d.WS.ID); err != nil {
		t.Fatal(err)
	}
	u := getAPIUser(t, d.URL, token, "member-0042")
	if u.UserID == nil || *u.UserID != "hub" || u.IdentityCount != int64(n+1) || len(u.Identities) != min(n+1, profiles.MaxViewIdentities) {
		t.Fatalf("hub via member-0042: userId %v, %d identities (%d listed)", u.UserID, u.IdentityCount, len(u.Identities))
	}
	b := d.C
	b.MustSignIn()
	pg := b.Get("/dashboard/users/hub")
	if pg.Status != 200 {
		t.Fatalf("hub page: %d %s", pg.Status, pg.Body)
	}
	if rows := pg.Doc.Find("#identities tr.identity").Length(); rows != 100 || pg.Text("#identities-range") != fmt.Sprintf("1–100 of %d", n+1) {
		t.Errorf("identities page 1: %d rows, %q", rows, pg.Text("#identities-range"))
	}
	if rows := pg.Doc.Find("#timeline tr.event-row").Length(); rows != 50 || pg.Doc.Find("#timeline-section a[href*='before=']").Length() == 0 {
		t.Errorf("timeline: %d rows and no older page", rows)
	}
	if named, more := pg.Doc.Find("#delete-userids .delete-userid").Length(), pg.Text("#delete-userids-more"); named != 50 || more != fmt.Sprint(n+1-50) {
		t.Errorf("erasure confirmation names %d userIds and %q more, want 50 and %d", named, more, n+1-50)
	}
	last := b.Get(fmt.Sprintf("/dashboard/users/hub?ids=%d", n))
	if last.Status != 200 || last.Doc.Find("#identities tr.identity").Length() != 1 || last.Doc.Find("#identities-next").Length() != 0 {
		t.Errorf("last identities page: %d, %d rows", last.Status, last.Doc.Find("#identities tr.identity").Length())
	}
	// The newest events of 3,001 identities, through the chunked timeline.
	if newest := pg.Text("#timeline tr.event-row .event-type"); newest != "alias" {
		t.Errorf("newest event %q", newest)
	}
}
