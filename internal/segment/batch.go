package segment

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
)

// batchTop holds what a Tracking API batch body says once for all items.
type batchTop struct {
	context      map[string]json.RawMessage // nil when absent or null
	integrations map[string]json.RawMessage // nil when absent or null
	sentAt       json.RawMessage            // nil when absent or null
}

// parseBatch handles {"batch":[...], "context":{...}, "integrations":{...},
// "sentAt":..., ...}. Other top-level keys (writeKey, ...) are not copied:
// they describe the request, not the events.
func parseBatch(top map[string]json.RawMessage, batchRaw json.RawMessage) ([]Event, error) {
	if k := kindOf(batchRaw); k != "array" {
		return nil, bodyErr("batch", "must be an array, got %s", k)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(batchRaw, &items); err != nil {
		// Unreachable: the body as a whole was already valid JSON.
		return nil, bodyErr("batch", "invalid JSON: %s", err.Error())
	}
	var bt batchTop
	var err error
	if bt.context, err = topObject(top, "context"); err != nil {
		return nil, err
	}
	if bt.integrations, err = topObject(top, "integrations"); err != nil {
		return nil, err
	}
	if v, ok := top["sentAt"]; ok && kindOf(v) != "null" {
		bt.sentAt = v
	}
	return parseItems(items, &bt)
}

// topObject returns a top-level object field of a batch body, nil if absent
// or null. Anything else is refused rather than silently dropped, since it
// was meant to apply to every event.
func topObject(top map[string]json.RawMessage, key string) (map[string]json.RawMessage, error) {
	v, ok := top[key]
	if !ok || kindOf(v) == "null" {
		return nil, nil
	}
	if k := kindOf(v); k != "object" {
		return nil, bodyErr(key, "must be an object, got %s", k)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, bodyErr(key, "invalid JSON: %s", err.Error())
	}
	return m, nil
}

// merge folds the batch-level values into one item map (modifying it) and
// returns the item's new JSON text. Item keys win, key by key one level deep
// inside context/integrations. An item value that is null counts as absent;
// an item value that is present but not an object wins wholesale.
func (bt *batchTop) merge(item map[string]json.RawMessage) ([]byte, error) {
	if err := mergeObject(item, "context", bt.context); err != nil {
		return nil, err
	}
	if err := mergeObject(item, "integrations", bt.integrations); err != nil {
		return nil, err
	}
	if bt.sentAt != nil {
		if v, ok := item["sentAt"]; !ok || kindOf(v) == "null" {
			item["sentAt"] = bt.sentAt
		}
	}
	return encode(item)
}

func mergeObject(item map[string]json.RawMessage, key string, top map[string]json.RawMessage) error {
	if top == nil {
		return nil
	}
	own, ok := item[key]
	if ok && kindOf(own) == "object" {
		var ownMap map[string]json.RawMessage
		if err := json.Unmarshal(own, &ownMap); err != nil {
			return fmt.Errorf("field %q: invalid JSON: %s", key, err.Error())
		}
		merged := maps.Clone(top)
		maps.Copy(merged, ownMap)
		b, err := encode(merged)
		if err != nil {
			return err
		}
		item[key] = b
		return nil
	}
	if ok && kindOf(own) != "null" {
		return nil // a non-object item value wins as-is
	}
	b, err := encode(top)
	if err != nil {
		return err
	}
	item[key] = b
	return nil
}

// encode marshals without HTML escaping so merged items stay as close to
// the sender's text as possible (json.Marshal would turn < into \u003c).
// Map keys come out sorted, so the same input always gives the same bytes
// and the derived messageId stays stable across retries.
func encode(m map[string]json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("re-encoding: %s", err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
