package store

import (
	"fmt"
	"strconv"
)

type leafEventRecord struct {
	ID          int64
	MessageID   string
	Type        string
	Event       string
	UserID      string
	AnonymousID string
	Timestamp   dbTime
	ReceivedAt  dbTime
	Source      string
	Raw         string
}

// EventsUpTo pages through the workspace's events of one type (and, for
// track, one name) that the audience follower has already passed, by id:
// what a new leaf's states are filled from. Later events reach the leaf
// through the follower.
func (a *AudienceTx) EventsUpTo(typ, name string, afterID int64, limit int) ([]FeedEvent, error) {
	q := "SELECT id, message_id, type, event, user_id, anonymous_id, timestamp, received_at, source, raw FROM events WHERE workspace_id = ? AND type = ? AND id > ?"
	args := []any{a.ws.String(), typ, afterID}
	if name != "" {
		q += " AND event = ?"
		args = append(args, name)
	}
	if a.s.dialect == Postgres {
		q += " AND (tx_id, id) <= (?::text::xid8, ?)"
		args = append(args, strconv.FormatInt(a.cursor.Tx, 10), a.cursor.ID)
	} else {
		q += " AND id <= ?"
		args = append(args, a.cursor.ID)
	}
	var recs []leafEventRecord
	if err := a.tx.Raw(q+" ORDER BY id LIMIT ?", append(args, limit)...).Scan(&recs).Error; err != nil {
		return nil, fmt.Errorf("read %s %q events of %s: %w", typ, name, a.ws, err)
	}
	out := make([]FeedEvent, len(recs))
	for i, r := range recs {
		out[i] = FeedEvent{Cursor: FeedCursor{ID: r.ID}, WorkspaceID: a.ws, MessageID: r.MessageID, Type: r.Type, Event: r.Event,
			UserID: r.UserID, AnonymousID: r.AnonymousID, Timestamp: r.Timestamp.ptr(), ReceivedAt: r.ReceivedAt.Time,
			Source: r.Source, Raw: []byte(r.Raw)}
	}
	return out, nil
}

// FillLeafStates computes a new leaf's states from the stored events the
// follower has passed in one statement, on PostgreSQL, for a leaf with no
// where clause (the database decides everything it needs): per identity
// (an event's userId when that is a known identity, else its anonymousId,
// as the follower counts), how many events of the type and name there are
// and the keep newest of their times (Unix ms, from the timestamp or else
// the receipt), those before floorMS dropped. It answers false on SQLite,
// where the caller pages through the events instead.
func (a *AudienceTx) FillLeafStates(leafID, typ, name string, keep int, floorMS int64) (bool, error) {
	if a.s.dialect != Postgres {
		return false, nil
	}
	inner, innerArgs := a.leafEventsSQL("CASE WHEN iu.value IS NOT NULL THEN 'user' ELSE 'anon' END AS kind, COALESCE(iu.value, ia.value) AS value", typ, name, 0)
	state, stateArgs := leafStateSQL(keep, floorMS)
	q := `INSERT INTO audience_leaf_states (workspace_id, leaf_id, kind, value, state)
SELECT ?::uuid, ?, kind, value, ` + state + `
FROM (
  SELECT kind, value, count(*) AS c, array_agg(ms ORDER BY ms DESC) AS stamps
  FROM (` + inner + `) x WHERE value IS NOT NULL GROUP BY kind, value
) g
ON CONFLICT (workspace_id, leaf_id, kind, value) DO UPDATE SET state = excluded.state`
	args := append(append([]any{a.ws.String(), leafID}, stateArgs...), innerArgs...)
	if err := a.tx.Exec(q, args...).Error; err != nil {
		return false, fmt.Errorf("fill leaf %s from the %s %q events of %s: %w", leafID, typ, name, a.ws, err)
	}
	return true, nil
}

// LeafStatesByProfile computes, on PostgreSQL, a leaf's state per profile
// (the union of its identities' states, counted as the follower counts)
// from the stored events the follower has passed, without storing
// anything: a preview of a leaf no audience has built yet. With floorMS >
// 0 only events at or after it are read, so the count is the window's
// (all a windowed leaf is judged by). It answers false on SQLite.
func (a *AudienceTx) LeafStatesByProfile(typ, name string, keep int, floorMS int64) ([]ProfileLeafState, bool, error) {
	if a.s.dialect != Postgres {
		return nil, false, nil
	}
	inner, innerArgs := a.leafEventsSQL("COALESCE(iu.profile_key, ia.profile_key) AS profile_key", typ, name, floorMS)
	state, stateArgs := leafStateSQL(keep, floorMS)
	q := `SELECT profile_key, ` + state + ` AS state
FROM (
  SELECT profile_key, count(*) AS c, array_agg(ms ORDER BY ms DESC) AS stamps
  FROM (` + inner + `) x WHERE profile_key IS NOT NULL GROUP BY profile_key
) g`
	var rows []ProfileLeafState
	if err := a.tx.Raw(q, append(stateArgs, innerArgs...)...).Scan(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("count the %s %q events of %s by profile: %w", typ, name, a.ws, err)
	}
	return rows, true, nil
}

// leafEventsSQL selects cols and each event's time (ms, Unix milliseconds)
// for the events of a leaf's type and name up to the cursor, with the
// identities they count for joined (iu: the userId's, ia: the
// anonymousId's); with floorMS > 0, only events from about then on.
func (a *AudienceTx) leafEventsSQL(cols, typ, name string, floorMS int64) (string, []any) {
	q := `SELECT ` + cols + `, floor(extract(epoch FROM COALESCE(e.timestamp, e.received_at)) * 1000)::bigint AS ms
    FROM events e
    LEFT JOIN profile_identities iu ON iu.workspace_id = e.workspace_id AND iu.kind = 'user' AND iu.value = e.user_id AND e.user_id <> ''
    LEFT JOIN profile_identities ia ON ia.workspace_id = e.workspace_id AND ia.kind = 'anon' AND ia.value = e.anonymous_id AND e.anonymous_id <> ''
    WHERE e.workspace_id = ? AND e.type = ?`
	args := []any{a.ws.String(), typ}
	if name != "" {
		q += " AND e.event = ?"
		args = append(args, name)
	}
	if floorMS > 0 {
		// A millisecond early: to_timestamp's float may round the edge up;
		// leafStateSQL keeps exactly the times at or after floorMS.
		q += " AND COALESCE(e.timestamp, e.received_at) >= to_timestamp((?::bigint - 1) / 1000.0)"
		args = append(args, floorMS)
	}
	q += " AND (e.tx_id, e.id) <= (?::text::xid8, ?)"
	return q, append(args, strconv.FormatInt(a.cursor.Tx, 10), a.cursor.ID)
}

// leafStateSQL builds a state's JSON text from a group's count c and its
// times, newest first (stamps): the keep newest at or after floorMS.
func leafStateSQL(keep int, floorMS int64) (string, []any) {
	if keep == 0 {
		return "json_build_object('c', c)::text", nil
	}
	return `json_build_object('c', c, 's', COALESCE((SELECT json_agg(m ORDER BY m DESC) FROM unnest(stamps[1:?::int]) AS m WHERE m >= ?::bigint), '[]'::json))::text`,
		[]any{keep, floorMS}
}
