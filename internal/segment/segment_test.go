package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixtureSecret matches testdata/signatures.json; the fixtures were signed
// with it by an independent tool, so they pin Sign/Verify to Segment's bytes.
const fixtureSecret = "fixture-shared-secret-0123456789"

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadSignatures(t testing.TB) map[string]string {
	t.Helper()
	var doc struct {
		SharedSecret string `json:"shared_secret"`
		Fixtures     []struct {
			File       string `json:"file"`
			XSignature string `json:"x_signature"`
		} `json:"fixtures"`
	}
	if err := json.Unmarshal(readFixture(t, "signatures.json"), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SharedSecret != fixtureSecret {
		t.Fatalf("shared secret in signatures.json changed: %q", doc.SharedSecret)
	}
	sigs := map[string]string{}
	for _, f := range doc.Fixtures {
		sigs[f.File] = f.XSignature
	}
	return sigs
}

func mustParse(t testing.TB, body []byte) []Event {
	t.Helper()
	evs, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse(%.200s): %v", body, err)
	}
	return evs
}

func rawMap(t testing.TB, raw []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("Raw is not a JSON object: %v", err)
	}
	return m
}

func TestFixtures(t *testing.T) {
	sigs := loadSignatures(t)
	wantTS := time.Date(2026, 11, 20, 9, 14, 3, 818_000_000, time.UTC)
	tests := []struct {
		file     string
		types    []string
		verbatim bool // Raw must be a slice of the body's own bytes
	}{
		{"identify.json", []string{"identify"}, true},
		{"track.json", []string{"track"}, true},
		{"page.json", []string{"page"}, true},
		{"screen.json", []string{"screen"}, true},
		{"group.json", []string{"group"}, true},
		{"alias.json", []string{"alias"}, true},
		{"delete.json", []string{"delete"}, true},
		{"actions-batch.json", []string{"track", "page", "identify"}, true},
		{"tracking-api-batch.json", []string{"track", "identify"}, false},
	}
	if len(tests) != len(sigs) {
		t.Fatalf("signatures.json lists %d fixtures, table has %d", len(sigs), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			body := readFixture(t, tc.file)
			if err := Verify([]byte(fixtureSecret), body, sigs[tc.file]); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			evs := mustParse(t, body)
			if len(evs) != len(tc.types) {
				t.Fatalf("got %d events, want %d", len(evs), len(tc.types))
			}
			for i, ev := range evs {
				if ev.Type != tc.types[i] {
					t.Errorf("event %d: type %q, want %q", i, ev.Type, tc.types[i])
				}
				if ev.MessageID == "" || ev.UserID != "user_8812" {
					t.Errorf("event %d: MessageID %q UserID %q", i, ev.MessageID, ev.UserID)
				}
				if tc.verbatim && !bytes.Contains(body, ev.Raw) {
					t.Errorf("event %d: Raw is not a verbatim slice of the body", i)
				}
				if tc.file != "delete.json" && !ev.Timestamp.Equal(wantTS) {
					t.Errorf("event %d: Timestamp %v, want %v", i, ev.Timestamp, wantTS)
				}
			}
		})
	}
}

func TestFixtureFields(t *testing.T) {
	one := func(name string) Event { return mustParse(t, readFixture(t, name))[0] }
	if ev := one("track.json"); ev.Event != "Checkout Started" || ev.MessageID != "ajs-next-1700471643117-b2" {
		t.Errorf("track: %+v", ev)
	}
	if ev := one("page.json"); ev.Event != "Docs" {
		t.Errorf("page name: %q", ev.Event)
	}
	if ev := one("screen.json"); ev.Event != "Cart" {
		t.Errorf("screen name: %q", ev.Event)
	}
	if ev := one("group.json"); ev.GroupID != "acct_17" {
		t.Errorf("group: %q", ev.GroupID)
	}
	if ev := one("alias.json"); ev.PreviousID != "b7a1c2d3-0f4e-4a5b-9c8d-7e6f5a4b3c2d" {
		t.Errorf("alias: %q", ev.PreviousID)
	}
	if ev := one("delete.json"); !ev.Timestamp.Equal(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("delete timestamp: %v", ev.Timestamp)
	}
	body := readFixture(t, "identify.json")
	if ev := one("identify.json"); !bytes.Equal(ev.Raw, body) {
		t.Error("single-object Raw differs from the body")
	}
	// Element 0 of the Actions batch is byte-for-byte track.json; that is
	// why both carry the same signature.
	batch := mustParse(t, readFixture(t, "actions-batch.json"))
	if !bytes.Equal(batch[0].Raw, readFixture(t, "track.json")) {
		t.Error("actions-batch element 0 Raw differs from track.json")
	}
}

func TestTrackingAPIBatchMerge(t *testing.T) {
	evs := mustParse(t, readFixture(t, "tracking-api-batch.json"))
	for i, ev := range evs {
		var item struct {
			Context struct {
				Library struct{ Name string } `json:"library"`
			} `json:"context"`
			SentAt string `json:"sentAt"`
		}
		if err := json.Unmarshal(ev.Raw, &item); err != nil {
			t.Fatal(err)
		}
		if item.Context.Library.Name != "analytics-go" {
			t.Errorf("event %d: top-level context not merged: %s", i, ev.Raw)
		}
		if item.SentAt != "2026-11-20T09:14:03.201Z" {
			t.Errorf("event %d: item's own sentAt lost: %q", i, item.SentAt)
		}
	}

	body := []byte(`{"batch":[
		{"type":"track","event":"A","userId":"u","context":{"locale":"de","ip":"192.0.2.1"},"integrations":{"Mixpanel":false}},
		{"type":"track","event":"B","userId":"u","context":null}],
	 "context":{"locale":"en","library":{"name":"lib"}},"integrations":{"All":true,"Mixpanel":true},
	 "sentAt":"2026-11-20T09:14:04Z","writeKey":"wk"}`)
	evs = mustParse(t, body)
	first, second := rawMap(t, evs[0].Raw), rawMap(t, evs[1].Raw)
	for _, c := range []struct {
		raw  json.RawMessage
		want string
	}{
		{first["context"], `{"ip":"192.0.2.1","library":{"name":"lib"},"locale":"de"}`},
		{first["integrations"], `{"All":true,"Mixpanel":false}`},
		{first["sentAt"], `"2026-11-20T09:14:04Z"`},
		{second["context"], `{"library":{"name":"lib"},"locale":"en"}`},
	} {
		if string(c.raw) != c.want {
			t.Errorf("merged %s, want %s", c.raw, c.want)
		}
	}
	if _, ok := first["writeKey"]; ok {
		t.Error("writeKey copied into item")
	}
	if want := time.Date(2026, 11, 20, 9, 14, 4, 0, time.UTC); !evs[0].Timestamp.Equal(want) {
		t.Errorf("Timestamp from copied sentAt: %v", evs[0].Timestamp)
	}
}

func TestRawIsExactBytes(t *testing.T) {
	single := []byte("\n\t {\"type\":\"track\", \"event\" : \"A\u00e9\\u00e9\",\"userId\":\"u\",\"p\":1.50}  \r\n")
	if ev := mustParse(t, single)[0]; !bytes.Equal(ev.Raw, bytes.TrimSpace(single)) {
		t.Errorf("single Raw = %q", ev.Raw)
	}
	elems := []string{
		`{"type":"identify","userId":"u1","traits":{"a":[1, 2 ,3]}}`,
		"{ \"type\" : \"page\",\n  \"anonymousId\":\"a\", \"name\":\"<Home>\" }",
		`{"type":"track","userId":7,"event":"E","properties":{"x":1e999999}}`,
	}
	arr := []byte("  [ " + elems[0] + " ,\n" + elems[1] + "," + elems[2] + "\n] ")
	evs := mustParse(t, arr)
	for i, ev := range evs {
		if !bytes.Equal(ev.Raw, []byte(elems[i])) {
			t.Errorf("element %d Raw = %q", i, ev.Raw)
		}
	}
	// Raw is a copy: callers may reuse the body buffer once Parse returns.
	for i := range arr {
		arr[i] = 'x'
	}
	if !bytes.Equal(evs[0].Raw, []byte(elems[0])) {
		t.Error("Raw aliases the body")
	}
}

func BenchmarkParse(b *testing.B) {
	track := readFixture(b, "track.json") // 891 bytes: a realistic ~1 KB event
	var arr bytes.Buffer
	arr.WriteByte('[')
	for i := range 100 {
		if i > 0 {
			arr.WriteByte(',')
		}
		arr.Write(bytes.Replace(track, []byte(`-b2"`), fmt.Appendf(nil, `-%d"`, i), 1))
	}
	arr.WriteByte(']')
	for _, bc := range []struct {
		name string
		body []byte
	}{{"track-1KB", track}, {"array-100", arr.Bytes()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
