// Package export streams a workspace's events as NDJSON, one original event
// per line, newest first, in constant memory: it reads keyset pages and
// writes each before reading the next.
package export

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/inlet-dev/inlet/internal/store"
)

// Page is how many events one read holds: with events of at most 32 KB,
// about 3 MB per running export, so that the API's budget of concurrent
// exports stays well inside the server's memory (issue 17 item 6). A
// keyset page costs one indexed query, so smaller pages cost little time.
const Page = 100

// Lister is the store's event listing.
type Lister interface {
	ListEvents(ctx context.Context, f store.EventFilter) (store.EventPage, error)
}

// Write streams every event matching f (its cursor fields are ignored) to w,
// calling flush after each page when it is not nil, and returns how many
// events it wrote. Each line is the event's stored JSON with insignificant
// whitespace removed, so an event sent pretty-printed is still one line.
func Write(ctx context.Context, st Lister, f store.EventFilter, w io.Writer, flush func() error) (int64, error) {
	f.Before, f.After, f.Limit = nil, nil, Page
	var n int64
	var line bytes.Buffer
	for {
		page, err := st.ListEvents(ctx, f)
		if err != nil {
			return n, fmt.Errorf("export: %w", err)
		}
		for _, e := range page.Events {
			line.Reset()
			if err := json.Compact(&line, e.Raw); err != nil {
				return n, fmt.Errorf("export: event %q: %w", e.MessageID, err)
			}
			line.WriteByte('\n')
			if _, err := w.Write(line.Bytes()); err != nil {
				return n, err
			}
			n++
		}
		if flush != nil {
			if err := flush(); err != nil {
				return n, err
			}
		}
		if page.Older == nil || len(page.Events) == 0 {
			return n, nil
		}
		f.Before = page.Older
		if err := ctx.Err(); err != nil {
			return n, err
		}
	}
}
