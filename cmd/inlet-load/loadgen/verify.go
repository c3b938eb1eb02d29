package loadgen

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
)

// Verification is what the database holds for a run's acknowledged events.
type Verification struct {
	Workspace  string
	Checked    int      // distinct acknowledged messageIds looked up
	Missing    []string // acknowledged but not stored: a lost event
	Duplicated []string // stored more than once
	// Unacknowledged counts stored events of the run that never got a 2xx
	// (committed, then the answer was lost): harmless, Segment would retry
	// them and get a duplicate.
	Unacknowledged int
}

// OK is true when every acknowledged event is stored exactly once.
func (v *Verification) OK() bool { return len(v.Missing) == 0 && len(v.Duplicated) == 0 }

func (v *Verification) String() string {
	s := fmt.Sprintf("verified %d acknowledged messageIds in workspace %s: %d missing, %d stored more than once, %d stored without an acknowledgement",
		v.Checked, v.Workspace, len(v.Missing), len(v.Duplicated), v.Unacknowledged)
	if len(v.Missing) > 0 {
		s += fmt.Sprintf("\n  first missing: %s", v.Missing[0])
	}
	if len(v.Duplicated) > 0 {
		s += fmt.Sprintf("\n  first duplicated: %s", v.Duplicated[0])
	}
	return s
}

// Verify looks up every acknowledged messageId of run in the workspace (the
// default workspace when empty), through the (workspace_id, message_id)
// index, in chunks.
func Verify(ctx context.Context, databaseURL, workspace, runID string, acked []string) (*Verification, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the database to verify: %w", err)
	}
	defer conn.Close(ctx)
	if workspace == "" {
		if err := conn.QueryRow(ctx, "SELECT id::text FROM workspaces WHERE is_default").Scan(&workspace); err != nil {
			return nil, fmt.Errorf("find the default workspace: %w", err)
		}
	}
	ids := slices.Clone(acked)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	v := &Verification{Workspace: workspace, Checked: len(ids)}
	seen := make(map[string]int, len(ids))
	const chunk = 5000
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		rows, err := conn.Query(ctx, `SELECT message_id, count(*) FROM events
			WHERE workspace_id = $1 AND message_id = ANY($2) GROUP BY message_id`, workspace, part)
		if err != nil {
			return nil, fmt.Errorf("look up stored events: %w", err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read stored events: %w", err)
			}
			seen[id] = n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read stored events: %w", err)
		}
	}
	for _, id := range ids {
		switch n := seen[id]; {
		case n == 0:
			v.Missing = append(v.Missing, id)
		case n > 1:
			v.Duplicated = append(v.Duplicated, id)
		}
	}
	// messageIds are runID-sender-seq; '_' and '%' never occur in a run id we
	// make, but escape them anyway so LIKE matches the prefix only.
	var total int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM events WHERE workspace_id = $1 AND message_id LIKE $2`,
		workspace, likePrefix(runID+"-")).Scan(&total)
	if err != nil {
		return nil, fmt.Errorf("count the run's stored events: %w", err)
	}
	v.Unacknowledged = max(0, total-len(ids))
	return v, nil
}

func likePrefix(p string) string {
	out := make([]byte, 0, len(p)+2)
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '%' || c == '_' || c == '\\' {
			out = append(out, '\\')
		}
		out = append(out, p[i])
	}
	return string(append(out, '%'))
}
