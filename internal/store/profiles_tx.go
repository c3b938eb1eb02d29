package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ProfileTx is one transaction over a workspace's profile tables, holding the
// workspace's profile lock: the profile_cursors row, locked FOR UPDATE on
// PostgreSQL (SQLite's single writer lock does the same). Every write to
// profiles happens inside one, so two instances never apply the same batch,
// and a rebuild or an erasure never interleaves with a batch.
type ProfileTx struct {
	s      *Store
	tx     *gorm.DB // the transaction, bound to the caller's context
	ws     uuid.UUID
	cursor FeedCursor
}

// ProfileCursor reads where the profile follower of ws is, without locking;
// zero when it has not started.
func (s *Store) ProfileCursor(ctx context.Context, ws uuid.UUID) (FeedCursor, error) {
	var c FeedCursor
	err := first(s.db.WithContext(ctx), &c, "SELECT tx, id FROM profile_cursors WHERE workspace_id = ?", ws.String())
	if errors.Is(err, ErrNotFound) {
		return FeedCursor{}, nil
	}
	if err != nil {
		return c, fmt.Errorf("profile cursor of %s: %w", ws, err)
	}
	return c, nil
}

// WithProfileLock runs fn in one transaction holding ws's profile lock and
// commits when fn returns nil.
func (s *Store) WithProfileLock(ctx context.Context, ws uuid.UUID, fn func(*ProfileTx) error) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		p := &ProfileTx{s: s, tx: tx, ws: ws}
		if err := tx.Exec("INSERT INTO profile_cursors (workspace_id, tx, id) VALUES (?, 0, 0) ON CONFLICT (workspace_id) DO NOTHING",
			ws.String()).Error; err != nil {
			return fmt.Errorf("profile cursor of %s: %w", ws, err)
		}
		q := "SELECT tx, id FROM profile_cursors WHERE workspace_id = ?"
		if s.dialect == Postgres {
			q += " FOR UPDATE"
		}
		if err := first(tx, &p.cursor, q, ws.String()); err != nil {
			return fmt.Errorf("lock profile cursor of %s: %w", ws, err)
		}
		return fn(p)
	})
}

// Cursor is the follower's position as locked at the start of the transaction.
func (p *ProfileTx) Cursor() FeedCursor { return p.cursor }

// Dialect says which database the transaction runs on.
func (p *ProfileTx) Dialect() Dialect { return p.s.dialect }

// SetCursor moves the follower to c; it commits with the transaction.
func (p *ProfileTx) SetCursor(c FeedCursor) error {
	_, err := exec(p.tx, "UPDATE profile_cursors SET tx = ?, id = ?, updated_at = ? WHERE workspace_id = ?",
		c.Tx, c.ID, at(time.Now()), p.ws.String())
	if err != nil {
		return fmt.Errorf("move profile cursor of %s: %w", p.ws, err)
	}
	p.cursor = c
	return nil
}

// inChunk bounds the values of one IN (…) list, under both dialects'
// bind-variable limits with room for the other arguments.
const inChunk = 500

// placeholders is "?,?,…" with n marks.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// chunks calls fn for consecutive slices of at most inChunk values.
func chunks(values []string, fn func(part []string) error) error {
	for start := 0; start < len(values); start += inChunk {
		if err := fn(values[start:min(start+inChunk, len(values))]); err != nil {
			return err
		}
	}
	return nil
}

func strArgs(prefix []any, values []string) []any {
	out := make([]any, 0, len(prefix)+len(values))
	out = append(out, prefix...)
	for _, v := range values {
		out = append(out, v)
	}
	return out
}

// insertRows runs one multi-row INSERT per chunk of rows; head is
// "INSERT INTO t (a, b)" and tail what follows VALUES (ON CONFLICT …).
func (p *ProfileTx) insertRows(head, tail string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := max(1, 4000/len(rows[0]))
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(part)*len(part[0]))
		row := "(" + placeholders(len(part[0])) + ")"
		for i, r := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(row)
			args = append(args, r...)
		}
		b.WriteByte(' ')
		b.WriteString(tail)
		if _, err := exec(p.tx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// ResetProfiles deletes every profile row of the workspace and moves the
// cursor back to the start of the feed, so the follower rebuilds them all.
func (p *ProfileTx) ResetProfiles() error {
	for _, t := range []string{"profiles", "profile_identities", "profile_links", "profile_aliases",
		"profile_trait_values", "profile_groups", "profile_refused_ids", "profile_merge_refusals"} {
		if _, err := exec(p.tx, "DELETE FROM "+t+" WHERE workspace_id = ?", p.ws.String()); err != nil {
			return fmt.Errorf("reset %s of %s: %w", t, p.ws, err)
		}
	}
	return p.SetCursor(FeedCursor{})
}

// ProfileEvent is an event as a profile recomputation reads it.
type ProfileEvent = FeedEvent

// EventsOfIdentities streams the stored events of ws whose user_id is one of
// users, then those whose anonymous_id is one of anons, stopping at the
// feed position upTo (events after it are not applied yet). An event carrying
// both may come twice; callers attribute each event to one identity. fn must
// not use the transaction.
func (p *ProfileTx) EventsOfIdentities(users, anons []string, upTo FeedCursor, fn func(FeedEvent) error) error {
	const cols = feedEventCols + "raw"
	pos, posArgs := "id <= ?", []any{upTo.ID}
	if p.s.dialect == Postgres {
		pos, posArgs = "(tx_id, id) <= (?::text::xid8, ?)", []any{strconv.FormatInt(upTo.Tx, 10), upTo.ID}
	}
	for _, branch := range []struct {
		col    string
		values []string
	}{{"user_id", users}, {"anonymous_id", anons}} {
		err := chunks(branch.values, func(part []string) error {
			args := strArgs([]any{p.ws.String()}, part)
			args = append(args, posArgs...)
			rows, err := p.tx.Raw("SELECT "+cols+" FROM events WHERE workspace_id = ? AND "+branch.col+
				" IN ("+placeholders(len(part))+") AND "+pos+" ORDER BY id", args...).Rows()
			if err != nil {
				return fmt.Errorf("events of profile identities: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var r feedEventRow
				if err := rows.Scan(r.dest()...); err != nil {
					return fmt.Errorf("read profile event: %w", err)
				}
				if err := fn(r.event(p.ws)); err != nil {
					return err
				}
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// DeleteEventsByID removes events of the workspace by id (events that slipped
// in for a suppressed identity).
func (p *ProfileTx) DeleteEventsByID(ids []int64) error {
	if _, err := deleteEventsAndCopies(p.tx, p.ws, ids); err != nil {
		return fmt.Errorf("delete suppressed events: %w", err)
	}
	return nil
}
