package audiences

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// A current version that refers to an audience still on its first build
// reads that audience's condition, not a false: a user who meets it is
// never taken out of (or, under a not, put into) the referring audience
// while the build runs. The building audience itself is not answered from
// the current set (evaluate skips audiences with no current version).
func TestReferenceToAudienceOnFirstBuild(t *testing.T) {
	t.Parallel()
	x := `{"key":"x","name":"X","condition":{"trait":"plan","op":"eq","value":"pro"}}`
	in := `{"key":"a","name":"A","condition":{"audience":"x"}}`
	out := `{"key":"b","name":"B","condition":{"not":{"audience":"x"}}}`
	rows := []store.AudienceRow{
		{Key: "a", Definition: []byte(in), Version: 1, CurrentVersion: 1, CurrentDef: []byte(in)},
		{Key: "b", Definition: []byte(out), Version: 1, CurrentVersion: 1, CurrentDef: []byte(out)},
		{Key: "x", Definition: []byte(x), Version: 1},
	}
	s, err := fromRows(rows)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for plan, want := range map[string]bool{"pro": true, "free": false} {
		sub := &Subject{Key: "u:ann", UserID: "ann", Traits: map[string]any{"plan": plan}, States: map[string]*LeafState{}}
		res := s.cur.Evaluate(sub, now)
		if res["a"].Member != want || res["b"].Member != !want {
			t.Errorf("plan %s: a=%v b=%v, want a=%v b=%v", plan, res["a"].Member, res["b"].Member, want, !want)
		}
		if got := res["a"].Tree.Children; got != nil {
			t.Errorf("an audience node has no children, got %v", got)
		}
		if seen := res["a"].Tree.Seen; seen != want {
			t.Errorf("plan %s: explain of a saw %v, want %v", plan, seen, want)
		}
	}
	if !s.newer["x"] || s.next == nil {
		t.Fatal("x should still be building in the next set")
	}
	// Caching keeps the answer: the sets are reused, not rebuilt.
	var c defCache
	s1, err := c.load(uuid.Nil, rows)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.load(uuid.Nil, rows)
	if err != nil || !s1.sameSets(s2) {
		t.Fatalf("the cache rebuilt unchanged sets (err %v)", err)
	}
	swapped := append([]store.AudienceRow(nil), rows...)
	swapped[2].CurrentVersion, swapped[2].CurrentDef = 1, []byte(x)
	s3, err := c.load(uuid.Nil, swapped)
	if err != nil || s3.sameSets(s1) || s3.next != nil {
		t.Fatalf("a swap must compile the sets again (err %v)", err)
	}
}
