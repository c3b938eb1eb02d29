package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// The sender's batch reads and writes: what it must know of a claimed
// batch of sends comes in a handful of queries, and outcomes are recorded
// a group at a time (one transaction for many sends), so the cost per email
// is a fraction of a round trip rather than a dozen.

// SuppressedAmong is the subset of hashes (profiles.HashID) suppressed in
// the workspace.
func (s *Store) SuppressedAmong(ctx context.Context, ws uuid.UUID, hashes []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := chunks(hashes, func(part []string) error {
		var hs []string
		if err := all(s.db.WithContext(ctx), &hs, "SELECT id_hash FROM suppressions WHERE workspace_id = ? AND id_hash IN ("+
			placeholders(len(part))+")", strArgs([]any{ws.String()}, part)...); err != nil {
			return fmt.Errorf("suppression lookup: %w", err)
		}
		for _, h := range hs {
			out[h] = true
		}
		return nil
	})
	return out, err
}

// SubscriptionsOf is the explicit choices of users: user → group → subscribed.
func (s *Store) SubscriptionsOf(ctx context.Context, ws uuid.UUID, userIDs []string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	err := chunks(userIDs, func(part []string) error {
		var rows []struct {
			UserID     string
			GroupKey   string
			Subscribed bool
		}
		if err := all(s.db.WithContext(ctx), &rows, "SELECT user_id, group_key, subscribed FROM subscriptions WHERE workspace_id = ? AND user_id IN ("+
			placeholders(len(part))+")", strArgs([]any{ws.String()}, part)...); err != nil {
			return fmt.Errorf("subscriptions of users of %s: %w", ws, err)
		}
		for _, r := range rows {
			if out[r.UserID] == nil {
				out[r.UserID] = map[string]bool{}
			}
			out[r.UserID][r.GroupKey] = r.Subscribed
		}
		return nil
	})
	return out, err
}

// BouncedAmong is the subset of addresses (lower-cased) suppressed after a
// hard bounce in the workspace.
func (s *Store) BouncedAmong(ctx context.Context, ws uuid.UUID, addresses []string) (map[string]bool, error) {
	lower := make([]string, len(addresses))
	for i, a := range addresses {
		lower[i] = strings.ToLower(a)
	}
	out := map[string]bool{}
	err := chunks(lower, func(part []string) error {
		var as []string
		if err := all(s.db.WithContext(ctx), &as, "SELECT address FROM email_bounces WHERE workspace_id = ? AND address IN ("+
			placeholders(len(part))+")", strArgs([]any{ws.String()}, part)...); err != nil {
			return fmt.Errorf("bounced addresses: %w", err)
		}
		for _, a := range as {
			out[a] = true
		}
		return nil
	})
	return out, err
}

// InstanceEvents is the triggering event (JSON) of each instance id.
func (s *Store) InstanceEvents(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(start+inChunk, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		var rows []struct {
			ID    int64
			Event string
		}
		if err := all(s.db.WithContext(ctx), &rows, "SELECT id, event FROM journey_instances WHERE id IN ("+placeholders(len(part))+")", args...); err != nil {
			return nil, fmt.Errorf("events of instances: %w", err)
		}
		for _, r := range rows {
			out[r.ID] = r.Event
		}
	}
	return out, nil
}

// ProfilesOfUsers is the profile each userId belongs to (userId → row);
// users without a profile are absent.
func (s *Store) ProfilesOfUsers(ctx context.Context, ws uuid.UUID, userIDs []string) (map[string]ProfileRow, error) {
	out := map[string]ProfileRow{}
	err := chunks(userIDs, func(part []string) error {
		var rows []struct {
			Ident                           string
			ProfileKey, UserID, AnonymousID string
			FirstSeen, LastSeen             dbTime
			EventCount                      int64
			Doc                             string
		}
		if err := all(s.db.WithContext(ctx), &rows, "SELECT i.value AS ident, "+prefixCols("p.", profileCols)+
			" FROM profile_identities i JOIN profiles p ON p.workspace_id = i.workspace_id AND p.profile_key = i.profile_key"+
			" WHERE i.workspace_id = ? AND i.kind = ? AND i.value IN ("+placeholders(len(part))+")",
			strArgs([]any{ws.String(), IdentityUser}, part)...); err != nil {
			return fmt.Errorf("profiles of users of %s: %w", ws, err)
		}
		for _, r := range rows {
			out[r.Ident] = profileRow{ProfileKey: r.ProfileKey, UserID: r.UserID, AnonymousID: r.AnonymousID,
				FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, EventCount: r.EventCount, Doc: r.Doc}.profile()
		}
		return nil
	})
	return out, err
}

// Reservation is one claimed send about to go out: its address and the
// frequency cap that applies to it (CapN 0: none).
type Reservation struct {
	Message Message
	To      string
	CapN    int
	Period  time.Duration
}

// ReserveSends marks a batch of claimed sends sending, in one
// transaction, unless the frequency cap (CapN group emails per user per
// Period) is reached: then a send is skipped with reason capped. Each
// count and mark happen under a per-user lock, counting the sends already
// sending (the batch's own included), so two journeys or two instances
// cannot both pass the cap. ok[i] says whether rs[i] may be sent.
func (s *Store) ReserveSends(ctx context.Context, rs []Reservation, now time.Time) ([]bool, error) {
	ok := make([]bool, len(rs))
	err := s.tx(ctx, func(tx *gorm.DB) error {
		for i, r := range rs {
			m := r.Message
			ok[i] = true
			if r.CapN > 0 {
				if s.dialect == Postgres {
					if _, err := exec(tx, "SELECT pg_advisory_xact_lock(?)", lockKey("cap", m.WorkspaceID.String(), m.UserID)); err != nil {
						return err
					}
				}
				var n int64
				if err := first(tx, &n, "SELECT count(*) FROM messages WHERE workspace_id = ? AND user_id = ? AND group_key <> '' AND id <> ? "+
					"AND (status = 'sending' OR (status = 'sent' AND at > ?))", m.WorkspaceID.String(), m.UserID, m.ID, at(now.Add(-r.Period))); err != nil {
					return err
				}
				if n >= int64(r.CapN) {
					ok[i] = false
					if _, err := exec(tx, "UPDATE messages SET status = 'skipped', reason = 'capped', to_addr = ?, at = ? WHERE id = ?", r.To, at(now), m.ID); err != nil {
						return err
					}
					continue
				}
			}
			if _, err := exec(tx, "UPDATE messages SET status = 'sending', to_addr = ?, attempts = attempts + 1, at = ? WHERE id = ?", r.To, at(now), m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reserve %d sends: %w", len(rs), err)
	}
	return ok, nil
}

// Outcome is a send's end (sent, skipped, failed, bounced) or, with Status
// queued, a retry at Next.
type Outcome struct {
	Message Message
	Status  string
	Reason  string
	To      string
	Reply   string
	Next    time.Time // queued: when to try again
	At      time.Time
}

// RecordOutcomes records many sends' outcomes in one transaction (group
// commit); a bounce also suppresses the address for the workspace. Only rows still
// claimed (queued or sending) change, so an outcome never overwrites one
// recorded meanwhile (and a row an erasure deleted stays deleted).
func (s *Store) RecordOutcomes(ctx context.Context, outs []Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *gorm.DB) error {
		for _, o := range outs {
			m := o.Message
			if o.Status == "queued" {
				if _, err := exec(tx, "UPDATE messages SET status = 'queued', reply = ?, next_at = ?, at = ? WHERE id = ? AND status IN ('queued','sending')",
					truncate(o.Reply, 1000), at(o.Next), at(o.At), m.ID); err != nil {
					return err
				}
				continue
			}
			if _, err := exec(tx, "UPDATE messages SET status = ?, reason = ?, to_addr = ?, reply = ?, at = ? WHERE id = ? AND status IN ('queued','sending')",
				o.Status, o.Reason, o.To, truncate(o.Reply, 1000), at(o.At), m.ID); err != nil {
				return err
			}
			if o.Status == "bounced" && o.To != "" {
				if _, err := exec(tx, "INSERT INTO email_bounces (workspace_id, address, reply, at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
					m.WorkspaceID.String(), strings.ToLower(o.To), truncate(o.Reply, 1000), at(o.At)); err != nil {
					return fmt.Errorf("suppress bounced address: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d send outcomes: %w", len(outs), err)
	}
	return nil
}
