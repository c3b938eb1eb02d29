package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// SubscriptionGroup is a list a non-transactional email belongs to (table
// subscription_groups). OptIn groups send only to users who subscribed;
// the others to everyone who has not unsubscribed.
type SubscriptionGroup struct {
	Key       string    `json:"key"`
	Name      string    `json:"name"`
	OptIn     bool      `json:"optIn"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type subscriptionGroupRecord struct {
	Key       string
	Name      string
	OptIn     bool
	CreatedAt dbTime
	UpdatedAt dbTime
}

func (r subscriptionGroupRecord) group() SubscriptionGroup {
	return SubscriptionGroup{Key: r.Key, Name: r.Name, OptIn: r.OptIn, CreatedAt: r.CreatedAt.Time, UpdatedAt: r.UpdatedAt.Time}
}

// SubscriptionGroups lists the workspace's groups by key.
func (s *Store) SubscriptionGroups(ctx context.Context, ws uuid.UUID) ([]SubscriptionGroup, error) {
	var rows []subscriptionGroupRecord
	if err := all(s.db.WithContext(ctx), &rows, "SELECT key, name, opt_in, created_at, updated_at FROM subscription_groups "+
		"WHERE workspace_id = ? ORDER BY key", ws.String()); err != nil {
		return nil, fmt.Errorf("list subscription groups of %s: %w", ws, err)
	}
	out := make([]SubscriptionGroup, len(rows))
	for i, r := range rows {
		out[i] = r.group()
	}
	return out, nil
}

// SubscriptionGroup reads one group; ErrNotFound when there is none.
func (s *Store) SubscriptionGroup(ctx context.Context, ws uuid.UUID, key string) (SubscriptionGroup, error) {
	var r subscriptionGroupRecord
	err := first(s.db.WithContext(ctx), &r, "SELECT key, name, opt_in, created_at, updated_at FROM subscription_groups "+
		"WHERE workspace_id = ? AND key = ?", ws.String(), key)
	if errors.Is(err, ErrNotFound) {
		return SubscriptionGroup{}, ErrNotFound
	}
	if err != nil {
		return SubscriptionGroup{}, fmt.Errorf("read subscription group %q of %s: %w", key, ws, err)
	}
	return r.group(), nil
}

// CreateSubscriptionGroup adds a group; ErrConflict when the key is taken.
func (s *Store) CreateSubscriptionGroup(ctx context.Context, ws uuid.UUID, g SubscriptionGroup) (SubscriptionGroup, error) {
	now := time.Now().UTC()
	_, err := exec(s.db.WithContext(ctx), "INSERT INTO subscription_groups (workspace_id, key, name, opt_in, created_at, updated_at) VALUES (?,?,?,?,?,?)",
		ws.String(), g.Key, g.Name, g.OptIn, at(now), at(now))
	if err != nil && isUniqueViolation(err) {
		return SubscriptionGroup{}, ErrConflict
	}
	if err != nil {
		return SubscriptionGroup{}, fmt.Errorf("create subscription group %q of %s: %w", g.Key, ws, err)
	}
	g.CreatedAt, g.UpdatedAt = now, now
	return g, nil
}

// UpdateSubscriptionGroup changes a group's name and opt-in; ErrNotFound when there is none.
func (s *Store) UpdateSubscriptionGroup(ctx context.Context, ws uuid.UUID, g SubscriptionGroup) (SubscriptionGroup, error) {
	n, err := exec(s.db.WithContext(ctx), "UPDATE subscription_groups SET name = ?, opt_in = ?, updated_at = ? WHERE workspace_id = ? AND key = ?",
		g.Name, g.OptIn, at(time.Now()), ws.String(), g.Key)
	if err != nil {
		return SubscriptionGroup{}, fmt.Errorf("update subscription group %q of %s: %w", g.Key, ws, err)
	}
	if n == 0 {
		return SubscriptionGroup{}, ErrNotFound
	}
	return s.SubscriptionGroup(ctx, ws, g.Key)
}

// DeleteSubscriptionGroup removes a group; users' choices stay, so a group
// made again with the same key does not write to who unsubscribed.
func (s *Store) DeleteSubscriptionGroup(ctx context.Context, ws uuid.UUID, key string) error {
	n, err := exec(s.db.WithContext(ctx), "DELETE FROM subscription_groups WHERE workspace_id = ? AND key = ?", ws.String(), key)
	if err != nil {
		return fmt.Errorf("delete subscription group %q of %s: %w", key, ws, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Subscription is a user's explicit choice for one group.
type Subscription struct {
	Group      string    `json:"group"`
	Subscribed bool      `json:"subscribed"`
	Since      time.Time `json:"since"`
}

type subscriptionRecord struct {
	GroupKey   string
	Subscribed bool
	ChangedAt  dbTime
}

// Subscriptions lists the choices the user made, by group key.
func (s *Store) Subscriptions(ctx context.Context, ws uuid.UUID, userID string) ([]Subscription, error) {
	var rows []subscriptionRecord
	if err := all(s.db.WithContext(ctx), &rows, "SELECT group_key, subscribed, changed_at FROM subscriptions "+
		"WHERE workspace_id = ? AND user_id = ? ORDER BY group_key", ws.String(), userID); err != nil {
		return nil, fmt.Errorf("subscriptions of a user of %s: %w", ws, err)
	}
	out := make([]Subscription, len(rows))
	for i, r := range rows {
		out[i] = Subscription{Group: r.GroupKey, Subscribed: r.Subscribed, Since: r.ChangedAt.Time}
	}
	return out, nil
}

// SetSubscription records the user's choice for a group, and reports
// whether it changed anything (a second click on "Unsubscribe" does not).
func (s *Store) SetSubscription(ctx context.Context, ws uuid.UUID, userID, group string, subscribed bool, now time.Time) (bool, error) {
	n, err := exec(s.db.WithContext(ctx), "INSERT INTO subscriptions (workspace_id, user_id, group_key, subscribed, changed_at) "+
		"VALUES (?,?,?,?,?) ON CONFLICT (workspace_id, user_id, group_key) DO UPDATE SET subscribed = excluded.subscribed, "+
		"changed_at = excluded.changed_at WHERE subscriptions.subscribed <> excluded.subscribed",
		ws.String(), userID, group, subscribed, at(now))
	if err != nil {
		return false, fmt.Errorf("record subscription of a user of %s to %q: %w", ws, group, err)
	}
	return n > 0, nil
}

// DeleteSubscriptions removes what messaging kept of erased users, in the
// erasure's transaction: their subscription choices, their journey
// instances (they leave their journeys) and their messages, queued ones
// included (so nothing more is sent to them). An erased user leaves no trace.
func (p *ProfileTx) DeleteSubscriptions(userIDs []string) error {
	return chunks(userIDs, func(part []string) error {
		for _, table := range []string{"subscriptions", "journey_instances", "messages", "journey_webhooks"} {
			if _, err := exec(p.tx, "DELETE FROM "+table+" WHERE workspace_id = ? AND user_id IN ("+placeholders(len(part))+")",
				strArgs([]any{p.ws.String()}, part)...); err != nil {
				return fmt.Errorf("delete %s of erased users: %w", table, err)
			}
		}
		return nil
	})
}
