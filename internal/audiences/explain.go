package audiences

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// Explanation answers "why is this user (not) in this audience".
type Explanation struct {
	Result bool     `json:"result"`
	Tree   *Explain `json:"tree"`
}

// Explain evaluates one audience for one profile now, from the stored
// facts (traits, leaf states, other audiences' answers): the current
// version, or the newest while the first build runs.
func (e *Engine) Explain(ctx context.Context, ws uuid.UUID, key, profileKey string) (Explanation, error) {
	var out Explanation
	err := e.st.AudienceRead(ctx, ws, func(tx *store.AudienceTx) error {
		s, err := load(tx)
		if err != nil {
			return err
		}
		row, ok := s.rows[key]
		if !ok {
			return fmt.Errorf("audience %q: %w", key, store.ErrNotFound)
		}
		set := s.cur
		if row.CurrentVersion == 0 {
			set = s.next
		}
		p := &pass{tx: tx, s: s, now: e.opts.Now().UTC()}
		subs, _, err := p.subjects([]string{profileKey})
		if err != nil {
			return err
		}
		sub, ok := subs[profileKey]
		if !ok {
			return fmt.Errorf("profile %q: %w", profileKey, store.ErrNotFound)
		}
		res := set.Evaluate(sub, p.now)[key]
		out = Explanation{Result: res.Member, Tree: res.Tree}
		return nil
	})
	return out, err
}
