package audiences

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// reservedKeys are the words that follow /audiences/ in routes: an
// audience of such a key could not be read or changed at its own address.
// Refused when saving, not when parsing, so a stored one stays readable.
var reservedKeys = map[string]bool{"new": true, "preview": true}

// Create stores a new audience (version 1, building). Faults of the
// definition are *Error; a key in use is store.ErrConflict.
func (e *Engine) Create(ctx context.Context, ws uuid.UUID, raw []byte) (store.AudienceRow, error) {
	return e.save(ctx, ws, "", raw)
}

// Update stores a new version of key's definition; the old one stays
// current until the new one is built.
func (e *Engine) Update(ctx context.Context, ws uuid.UUID, key string, raw []byte) (store.AudienceRow, error) {
	return e.save(ctx, ws, key, raw)
}

func (e *Engine) save(ctx context.Context, ws uuid.UUID, key string, raw []byte) (store.AudienceRow, error) {
	d, err := Parse(raw, e.opts.Limits)
	if err != nil {
		return store.AudienceRow{}, err
	}
	if reservedKeys[d.Key] {
		return store.AudienceRow{}, fault("key", "%q is reserved: /audiences/%s is a page of the API and the dashboard", d.Key, d.Key)
	}
	if key != "" && d.Key != key {
		return store.AudienceRow{}, fault("key", "is %q, the address names %q", d.Key, key)
	}
	canon, err := MarshalDefinition(d)
	if err != nil {
		return store.AudienceRow{}, fmt.Errorf("encode audience %q: %w", d.Key, err)
	}
	var saved store.AudienceRow
	err = e.st.WithAudienceLock(ctx, ws, func(tx *store.AudienceTx) error {
		rows, err := tx.Audiences()
		if err != nil {
			return err
		}
		defs := []*Definition{d}
		var old *store.AudienceRow
		for i, r := range rows {
			if r.Key == d.Key {
				old = &rows[i]
				continue
			}
			od, err := Parse(r.Definition, storedLimits)
			if err != nil {
				return fmt.Errorf("stored audience %q: %w", r.Key, err)
			}
			defs = append(defs, od)
		}
		switch {
		case key == "" && old != nil:
			return fmt.Errorf("audience %q: %w", d.Key, store.ErrConflict)
		case key != "" && old == nil:
			return fmt.Errorf("audience %q: %w", key, store.ErrNotFound)
		}
		if err := CheckWorkspace(defs, e.opts.Limits); err != nil {
			return err
		}
		saved = store.AudienceRow{Key: d.Key, Name: d.Name, Definition: canon, Version: 1}
		if old != nil {
			saved.Version = old.Version + 1
		}
		return tx.PutAudience(saved)
	})
	if err != nil {
		return store.AudienceRow{}, err
	}
	e.Notify()
	return e.st.Audience(ctx, ws, d.Key)
}

// Delete removes an audience, refusing one that others refer to.
func (e *Engine) Delete(ctx context.Context, ws uuid.UUID, key string) error {
	return e.st.WithAudienceLock(ctx, ws, func(tx *store.AudienceTx) error {
		rows, err := tx.Audiences()
		if err != nil {
			return err
		}
		found := false
		keep := map[string]bool{}
		for _, r := range rows {
			if r.Key == key {
				found = true
				continue
			}
			for _, raw := range [][]byte{r.Definition, r.CurrentDef} {
				if len(raw) == 0 {
					continue
				}
				d, err := Parse(raw, storedLimits)
				if err != nil {
					return fmt.Errorf("stored audience %q: %w", r.Key, err)
				}
				for _, ref := range d.Condition.References() {
					if ref == key {
						return fault("key", "audience %q refers to %q: change or delete it first", r.Key, key)
					}
				}
				d.Condition.Walk(func(n *Node) {
					if n.Kind == KindPerformed {
						keep[n.Performed.ID] = true
					}
				})
			}
		}
		if !found {
			return fmt.Errorf("audience %q: %w", key, store.ErrNotFound)
		}
		if err := tx.DeleteAudience(key); err != nil {
			return err
		}
		return tx.DropLeaves(keep)
	})
}

// Stored decodes a stored audience's newest definition.
func Stored(r store.AudienceRow) (*Definition, error) { return Parse(r.Definition, storedLimits) }

// DefinitionJSON is a stored definition as a JSON object for answers.
func DefinitionJSON(r store.AudienceRow) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Definition, &m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}
