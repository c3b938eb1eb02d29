package store

import (
	"fmt"
	"time"
)

// Identity kinds.
const (
	IdentityUser = "user"
	IdentityAnon = "anon"
)

// Identity is one userId or anonymousId and the profile it belongs to.
type Identity struct {
	Kind       string // IdentityUser or IdentityAnon
	Value      string
	ProfileKey string
	Candidate  string // anonymous ids: the profile it would join without the cap
	OwnerUser  string // anonymous ids: the userId of its earliest link
	Via        string // own, link, alias, capped
	ViaTS      *time.Time
	ViaMessage string
	// Seen: some event carried the id in its own role (a userId as userId,
	// an anonymous id as anonymousId). An alias's previousId alone does not.
	Seen bool
}

const identityCols = "kind, value, profile_key, candidate, owner_user, via, via_ts, via_message, seen"

func scanIdentities(rowsErr error, rows interface {
	Next() bool
	Scan(...any) error
	Err() error
	Close() error
}) ([]Identity, error) {
	if rowsErr != nil {
		return nil, fmt.Errorf("read profile identities: %w", rowsErr)
	}
	defer rows.Close()
	var out []Identity
	for rows.Next() {
		var id Identity
		var ts dbTime
		if err := rows.Scan(&id.Kind, &id.Value, &id.ProfileKey, &id.Candidate, &id.OwnerUser, &id.Via, &ts, &id.ViaMessage, &id.Seen); err != nil {
			return nil, fmt.Errorf("read profile identity: %w", err)
		}
		if !ts.IsZero() {
			t := ts.Time
			id.ViaTS = &t
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read profile identities: %w", err)
	}
	return out, nil
}

// Identities returns the stored identities of one kind among values, by value.
func (p *ProfileTx) Identities(kind string, values []string) (map[string]Identity, error) {
	out := make(map[string]Identity, len(values))
	err := chunks(values, func(part []string) error {
		rows, err := p.tx.Raw("SELECT "+identityCols+" FROM profile_identities WHERE workspace_id = ? AND kind = ? AND value IN ("+
			placeholders(len(part))+")", strArgs([]any{p.ws.String(), kind}, part)...).Rows()
		ids, err := scanIdentities(err, rows)
		for _, id := range ids {
			out[id.Value] = id
		}
		return err
	})
	return out, err
}

// IdentityColumn names the columns IdentitiesBy may search.
type IdentityColumn string

const (
	ByProfile   IdentityColumn = "profile_key"
	ByOwner     IdentityColumn = "owner_user"
	ByCandidate IdentityColumn = "candidate"
)

// IdentitiesBy returns every identity whose column is one of values.
func (p *ProfileTx) IdentitiesBy(col IdentityColumn, values []string) ([]Identity, error) {
	switch col {
	case ByProfile, ByOwner, ByCandidate:
	default:
		return nil, fmt.Errorf("identities by %q: not a searchable column", col)
	}
	var out []Identity
	err := chunks(values, func(part []string) error {
		rows, err := p.tx.Raw("SELECT "+identityCols+" FROM profile_identities WHERE workspace_id = ? AND "+string(col)+" IN ("+
			placeholders(len(part))+")", strArgs([]any{p.ws.String()}, part)...).Rows()
		ids, err := scanIdentities(err, rows)
		out = append(out, ids...)
		return err
	})
	return out, err
}

// PutIdentities inserts or replaces identities.
func (p *ProfileTx) PutIdentities(ids []Identity) error {
	rows := make([][]any, 0, len(ids))
	for _, id := range ids {
		var ts any
		if id.ViaTS != nil {
			ts = at(*id.ViaTS)
		}
		rows = append(rows, []any{p.ws.String(), id.Kind, id.Value, id.ProfileKey, id.Candidate, id.OwnerUser, id.Via, ts, id.ViaMessage, id.Seen})
	}
	err := p.insertRows("INSERT INTO profile_identities (workspace_id, "+identityCols+")",
		"ON CONFLICT (workspace_id, kind, value) DO UPDATE SET profile_key = excluded.profile_key, candidate = excluded.candidate, "+
			"owner_user = excluded.owner_user, via = excluded.via, via_ts = excluded.via_ts, via_message = excluded.via_message, seen = excluded.seen", rows)
	if err != nil {
		return fmt.Errorf("store profile identities: %w", err)
	}
	return nil
}

// DeleteIdentities removes identities of one kind.
func (p *ProfileTx) DeleteIdentities(kind string, values []string) error {
	return chunks(values, func(part []string) error {
		_, err := exec(p.tx, "DELETE FROM profile_identities WHERE workspace_id = ? AND kind = ? AND value IN ("+placeholders(len(part))+")",
			strArgs([]any{p.ws.String(), kind}, part)...)
		if err != nil {
			return fmt.Errorf("delete profile identities: %w", err)
		}
		return nil
	})
}

// Link is the earliest event seen carrying both an anonymousId and a userId.
type Link struct {
	AnonymousID string
	UserID      string
	TS          time.Time
	MessageID   string
}

// Before orders links (and anything stamped the same way) by event time,
// then messageId: the total order every "earliest" and "latest" uses.
func Before(ts1 time.Time, mid1 string, ts2 time.Time, mid2 string) bool {
	if !ts1.Equal(ts2) {
		return ts1.Before(ts2)
	}
	return mid1 < mid2
}

// LinksOf returns every stored link of the given anonymous ids.
func (p *ProfileTx) LinksOf(anons []string) ([]Link, error) {
	return p.links("anonymous_id", anons)
}

// LinksTo returns every stored link to the given userIds.
func (p *ProfileTx) LinksTo(users []string) ([]Link, error) {
	return p.links("user_id", users)
}

func (p *ProfileTx) links(col string, values []string) ([]Link, error) {
	var out []Link
	err := chunks(values, func(part []string) error {
		rows, err := p.tx.Raw("SELECT anonymous_id, user_id, ts, message_id FROM profile_links WHERE workspace_id = ? AND "+col+" IN ("+
			placeholders(len(part))+")", strArgs([]any{p.ws.String()}, part)...).Rows()
		if err != nil {
			return fmt.Errorf("read profile links: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l Link
			var ts dbTime
			if err := rows.Scan(&l.AnonymousID, &l.UserID, &ts, &l.MessageID); err != nil {
				return fmt.Errorf("read profile link: %w", err)
			}
			l.TS = ts.Time
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// PutLinks stores links, keeping for each (anonymousId, userId) pair the
// earliest by (timestamp, messageId).
func (p *ProfileTx) PutLinks(links []Link) error {
	rows := make([][]any, 0, len(links))
	for _, l := range links {
		rows = append(rows, []any{p.ws.String(), l.AnonymousID, l.UserID, at(l.TS), l.MessageID})
	}
	err := p.insertRows("INSERT INTO profile_links (workspace_id, anonymous_id, user_id, ts, message_id)",
		"ON CONFLICT (workspace_id, anonymous_id, user_id) DO UPDATE SET ts = excluded.ts, message_id = excluded.message_id"+
			" WHERE (excluded.ts, excluded.message_id) < (profile_links.ts, profile_links.message_id)", rows)
	if err != nil {
		return fmt.Errorf("store profile links: %w", err)
	}
	return nil
}

// DeleteLinks removes every link of the given anonymous ids and to the given userIds.
func (p *ProfileTx) DeleteLinks(anons, users []string) error {
	for _, b := range []struct {
		col    string
		values []string
	}{{"anonymous_id", anons}, {"user_id", users}} {
		err := chunks(b.values, func(part []string) error {
			_, err := exec(p.tx, "DELETE FROM profile_links WHERE workspace_id = ? AND "+b.col+" IN ("+placeholders(len(part))+")",
				strArgs([]any{p.ws.String()}, part)...)
			return err
		})
		if err != nil {
			return fmt.Errorf("delete profile links: %w", err)
		}
	}
	return nil
}

// Alias is one alias call: PreviousID's profile merges into UserID's.
type Alias struct {
	MessageID  string
	PreviousID string
	UserID     string
	Trusted    bool // sent by a trusted source (NewEvent.Trusted)
	TS         time.Time
}

// Key is what makes an alias call distinct: copies of one call from
// sources of the same trust are one call (the earliest timestamp kept).
func (a Alias) Key() string {
	t := "0"
	if a.Trusted {
		t = "1"
	}
	return a.MessageID + "\x00" + a.PreviousID + "\x00" + a.UserID + "\x00" + t
}

// AliasesTouching returns every alias whose previous or new id is one of ids.
func (p *ProfileTx) AliasesTouching(ids []string) ([]Alias, error) {
	seen := map[string]bool{}
	var out []Alias
	err := chunks(ids, func(part []string) error {
		ph := placeholders(len(part))
		args := strArgs([]any{p.ws.String()}, part)
		args = strArgs(args, part)
		rows, err := p.tx.Raw("SELECT message_id, previous_id, user_id, trusted, ts FROM profile_aliases WHERE workspace_id = ? AND (previous_id IN ("+
			ph+") OR user_id IN ("+ph+"))", args...).Rows()
		if err != nil {
			return fmt.Errorf("read profile aliases: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a Alias
			var ts dbTime
			if err := rows.Scan(&a.MessageID, &a.PreviousID, &a.UserID, &a.Trusted, &ts); err != nil {
				return fmt.Errorf("read profile alias: %w", err)
			}
			a.TS = ts.Time
			if !seen[a.Key()] {
				seen[a.Key()] = true
				out = append(out, a)
			}
		}
		return rows.Err()
	})
	return out, err
}

// AddAliases stores alias calls, each distinct call (Alias.Key) once with
// its earliest timestamp, so the stored set does not depend on arrival order.
func (p *ProfileTx) AddAliases(aliases []Alias) error {
	rows := make([][]any, 0, len(aliases))
	for _, a := range aliases {
		rows = append(rows, []any{p.ws.String(), a.MessageID, a.PreviousID, a.UserID, a.Trusted, at(a.TS)})
	}
	err := p.insertRows("INSERT INTO profile_aliases (workspace_id, message_id, previous_id, user_id, trusted, ts)",
		"ON CONFLICT (workspace_id, message_id, previous_id, user_id, trusted) DO UPDATE SET ts = excluded.ts WHERE excluded.ts < profile_aliases.ts", rows)
	if err != nil {
		return fmt.Errorf("store profile aliases: %w", err)
	}
	return nil
}

// DeleteAliases removes every alias touching ids.
func (p *ProfileTx) DeleteAliases(ids []string) error {
	return chunks(ids, func(part []string) error {
		ph := placeholders(len(part))
		args := strArgs(strArgs([]any{p.ws.String()}, part), part)
		_, err := exec(p.tx, "DELETE FROM profile_aliases WHERE workspace_id = ? AND (previous_id IN ("+ph+") OR user_id IN ("+ph+"))", args...)
		if err != nil {
			return fmt.Errorf("delete profile aliases: %w", err)
		}
		return nil
	})
}

// RefusedID counts events that carried an id refused as an identity.
type RefusedID struct {
	Kind, Value string
	Events      int64
}

// AddRefused adds to the refused-id counts.
func (p *ProfileTx) AddRefused(refused []RefusedID) error {
	rows := make([][]any, 0, len(refused))
	for _, r := range refused {
		rows = append(rows, []any{p.ws.String(), r.Kind, r.Value, r.Events})
	}
	err := p.insertRows("INSERT INTO profile_refused_ids (workspace_id, kind, value, events)",
		"ON CONFLICT (workspace_id, kind, value) DO UPDATE SET events = profile_refused_ids.events + excluded.events", rows)
	if err != nil {
		return fmt.Errorf("count refused ids: %w", err)
	}
	return nil
}
