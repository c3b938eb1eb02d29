package store

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// EventScope names the events attributed to one profile: every event whose
// user_id is one of Users, and every anonymous-only event (no userId, or
// one of NoUser, the values that are no identity) whose anonymous_id is one
// of Anons. An event carrying one of Anons together with another user's
// userId is that user's: on a shared device, erasing one person must not
// take the others' events. The profile page lists this set, an erasure
// counts and deletes it.
type EventScope struct {
	Users  []string
	Anons  []string
	NoUser []string // lower-case userId values that count as none ("undefined", "null", …)
}

// Empty reports whether the scope names no identity.
func (sc EventScope) Empty() bool { return len(sc.Users)+len(sc.Anons) == 0 }

// anonOnly is the condition of an anonymous-only event, with its arguments.
func (sc EventScope) anonOnly() (string, []any) {
	cond := "trim(user_id) = ''"
	if len(sc.NoUser) > 0 {
		cond = "(" + cond + " OR lower(trim(user_id)) IN (" + placeholders(len(sc.NoUser)) + "))"
	}
	return cond, strArgs(nil, sc.NoUser)
}

// scopeBranches calls fn with each condition (and its arguments) whose
// union is the scope; the branches are disjoint, so counts add up.
func (sc EventScope) scopeBranches(fn func(cond string, args []any) error) error {
	if err := chunks(sc.Users, func(part []string) error {
		return fn("user_id IN ("+placeholders(len(part))+")", strArgs(nil, part))
	}); err != nil {
		return err
	}
	only, onlyArgs := sc.anonOnly()
	return chunks(sc.Anons, func(part []string) error {
		return fn("anonymous_id IN ("+placeholders(len(part))+") AND "+only, append(strArgs(nil, part), onlyArgs...))
	})
}

// CountScopeEvents counts the events of ws in the scope: the number an
// erasure of the profile deletes, shown before it is confirmed.
func (s *Store) CountScopeEvents(ctx context.Context, ws uuid.UUID, sc EventScope) (int64, error) {
	var total int64
	err := sc.scopeBranches(func(cond string, args []any) error {
		var n int64
		err := first(s.db.WithContext(ctx), &n, "SELECT count(*) FROM events WHERE workspace_id = ? AND "+cond,
			append([]any{ws.String()}, args...)...)
		if err != nil {
			return fmt.Errorf("count events of profile: %w", err)
		}
		total += n
		return nil
	})
	return total, err
}

// DeleteScopeEvents deletes at most limit events of ws in the scope, with
// every stored copy of them (destination attempts keeping a receiver's
// echo, pending retries), in one short transaction; callers loop until it
// returns 0 so no lock is held for long.
func (s *Store) DeleteScopeEvents(ctx context.Context, ws uuid.UUID, sc EventScope, limit int) (int64, error) {
	var ids []int64
	err := sc.scopeBranches(func(cond string, args []any) error {
		if len(ids) >= limit {
			return nil
		}
		var part []int64
		err := all(s.db.WithContext(ctx), &part, "SELECT id FROM events WHERE workspace_id = ? AND "+cond+" LIMIT ?",
			append(append([]any{ws.String()}, args...), limit-len(ids))...)
		if err != nil {
			return fmt.Errorf("find events of erased profile: %w", err)
		}
		ids = append(ids, part...)
		return nil
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	var n int64
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		n, err = deleteEventsAndCopies(tx, ws, ids)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete events of erased profile: %w", err)
	}
	return n, nil
}

// deleteEventsAndCopies deletes events of ws by id and what was kept of
// them for destinations: the attempts (a receiver's answer may echo the
// event) and the retries waiting to send them.
func deleteEventsAndCopies(tx *gorm.DB, ws uuid.UUID, ids []int64) (int64, error) {
	if tx.Dialector.Name() != string(SQLite) && len(ids) > 0 {
		// Waits for delivery steps recording attempts (they share it), so
		// none records an echo of these events after they are gone.
		if _, err := exec(tx, "SELECT pg_advisory_xact_lock(?)", erasureLock); err != nil {
			return 0, fmt.Errorf("erasure lock: %w", err)
		}
	}
	var total int64
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		in := make([]any, 0, len(part))
		for _, id := range part {
			in = append(in, id)
		}
		ph := placeholders(len(part))
		n, err := exec(tx, "DELETE FROM events WHERE workspace_id = ? AND id IN ("+ph+")", append([]any{ws.String()}, in...)...)
		if err != nil {
			return total, fmt.Errorf("delete erased events: %w", err)
		}
		dests := "SELECT id FROM destinations WHERE workspace_id = ?"
		if _, err := exec(tx, "DELETE FROM destination_attempts WHERE destination_id IN ("+dests+") AND event_id IN ("+ph+")",
			append([]any{ws.String()}, in...)...); err != nil {
			return total, fmt.Errorf("delete destination attempts of erased events: %w", err)
		}
		if _, err := exec(tx, "DELETE FROM destination_retries WHERE destination_id IN ("+dests+") AND event_id IN ("+ph+")",
			append([]any{ws.String()}, in...)...); err != nil {
			return total, fmt.Errorf("delete destination retries of erased events: %w", err)
		}
		total += n
	}
	return total, nil
}

// DeleteRefusedIDs removes ids from the workspace's list of refused ids
// (an erased id must not stay there in the clear), of either kind.
func (s *Store) DeleteRefusedIDs(ctx context.Context, ws uuid.UUID, values []string) error {
	return chunks(values, func(part []string) error {
		_, err := exec(s.db.WithContext(ctx), "DELETE FROM profile_refused_ids WHERE workspace_id = ? AND value IN ("+placeholders(len(part))+")",
			strArgs([]any{ws.String()}, part)...)
		if err != nil {
			return fmt.Errorf("delete refused ids: %w", err)
		}
		return nil
	})
}
