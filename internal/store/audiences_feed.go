package store

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/google/uuid"
)

// FeedNeed says which events' JSON a feed reader looks at: track events
// named in Names and calls of the types in Types; of those only the
// top-level properties in Props (Raw is then {"properties": {…}} holding
// just them), or every byte when AllProps is set. Every other event comes
// with an empty Raw, so the database neither sends nor the reader decodes a
// kilobyte per event it would not look at.
type FeedNeed struct {
	Names, Types []string
	Props        []string
	AllProps     bool
}

// ReadFeedFor is ReadFeed with Raw read only where need says so.
func (s *Store) ReadFeedFor(ctx context.Context, ws uuid.UUID, after FeedCursor, limit int, need FeedNeed) ([]FeedEvent, error) {
	if len(need.Names) == 0 && len(need.Types) == 0 {
		return s.readFeed(ctx, ws, after, limit, "''")
	}
	var conds []string
	var args []any
	if len(need.Names) > 0 {
		conds = append(conds, "(type = 'track' AND event IN ("+placeholders(len(need.Names))+"))")
		args = strArgs(args, need.Names)
	}
	if len(need.Types) > 0 {
		conds = append(conds, "type IN ("+placeholders(len(need.Types))+")")
		args = strArgs(args, need.Types)
	}
	value, vargs := s.propsExpr(need)
	expr := "CASE WHEN " + strings.Join(conds, " OR ") + " THEN " + value + " ELSE '' END"
	return s.readFeed(ctx, ws, after, limit, expr, append(args, vargs...)...)
}

// propsExpr builds {"properties": {k: v, …}} from the stored JSON in SQL,
// one key at a time: a key absent from the event stays absent (an explicit
// null stays null), so exists and not_exists answer as on the whole event.
func (s *Store) propsExpr(need FeedNeed) (string, []any) {
	raw := "raw"
	if s.dialect == Postgres {
		raw = "raw::text"
	}
	if need.AllProps || len(need.Props) == 0 {
		return raw, nil
	}
	var parts []string
	var args []any
	for _, k := range need.Props {
		name, _ := json.Marshal(k)
		if s.dialect == Postgres {
			parts = append(parts, "COALESCE(?::text || ':' || (p->(?::text))::text || ',', '')")
			args = append(args, string(name), k)
			continue
		}
		if strings.ContainsAny(k, "\"\\") {
			return raw, nil // no JSON path quotes such a key in SQLite: read it all
		}
		parts = append(parts, "COALESCE(? || ':' || (raw -> ?) || ',', '')") // SQLite parses raw once per statement row anyway
		args = append(args, string(name), `$.properties."`+k+`"`)
	}
	obj := `'{"properties":{' || rtrim(` + strings.Join(parts, " || ") + `, ',') || '}}'`
	if s.dialect == Postgres {
		// The text is parsed once per event (jsonb), not once per key.
		return `(SELECT ` + obj + ` FROM (SELECT raw::jsonb->'properties' AS p) AS x)`, args
	}
	return obj, args
}
