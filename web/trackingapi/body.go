package trackingapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"io"
	"net/http"
	"strings"

	"github.com/inlet-dev/inlet/internal/apperr"
	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/status"
)

// Segment's own HTTP API limits, so a library tuned for Segment never meets
// a surprise here: 32 KB per event (segment.MaxEventBytes), 500 KB per
// request, 2,500 events per batch.
const (
	maxTrackingBody   = 500 << 10
	maxTrackingEvents = 2500
)

// readBody reads the JSON body, gunzipping it when the sender says
// so (analytics-python does). The limit applies to the JSON itself, read
// through a LimitReader, so a small gzip bomb costs at most the limit in
// memory. Oversized is 400, as Segment answers, which its libraries do not
// retry. The string is the outcome to record when it fails.
func readBody(req *http.Request) ([]byte, string, error) {
	tooLarge := apperr.Errorf(apperr.Invalid, "body is larger than the %d-byte limit per request", maxTrackingBody)
	enc := strings.ToLower(strings.TrimSpace(req.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity", "gzip", "x-gzip":
	default:
		return nil, status.OutcomeBadBody, apperr.Errorf(apperr.Unsupported, "Content-Encoding %.20q is not supported: send plain or gzip", enc)
	}
	// The compressed form is never allowed to be larger than the JSON limit
	// either: real JSON compresses well.
	if req.ContentLength > maxTrackingBody {
		return nil, status.OutcomeTooLarge, tooLarge
	}
	raw, err := io.ReadAll(io.LimitReader(req.Body, maxTrackingBody+1))
	if err != nil {
		return nil, status.OutcomeBadBody, apperr.New(apperr.Invalid, "could not read the body: "+err.Error())
	}
	if len(raw) > maxTrackingBody {
		return nil, status.OutcomeTooLarge, tooLarge
	}
	if enc != "gzip" && enc != "x-gzip" {
		return raw, "", nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, status.OutcomeBadBody, apperr.New(apperr.Invalid, "Content-Encoding is gzip but the body is not: "+err.Error())
	}
	body, err := io.ReadAll(io.LimitReader(zr, maxTrackingBody+1))
	if len(body) > maxTrackingBody {
		return nil, status.OutcomeTooLarge, apperr.Errorf(apperr.Invalid,
			"decompressed body is larger than the %d-byte limit per request", maxTrackingBody)
	}
	if err != nil {
		return nil, status.OutcomeBadBody, apperr.New(apperr.Invalid, "corrupt gzip body: "+err.Error())
	}
	return body, "", nil
}

// parse turns a body into events. kind is the type a single-call
// path implies, "" for the batch paths.
// top is the body's top level, from topLevel.
func parse(body []byte, top map[string]json.RawMessage, kind string) ([]segment.Event, error) {
	var err error
	_, isBatch := top["batch"]
	switch {
	case kind == "" && !isBatch:
		return nil, apperr.New(apperr.Invalid, `body must be {"batch": [...]} on the batch endpoint; send one event to /v1/track, /v1/identify, ...`)
	case kind != "" && isBatch:
		return nil, apperr.New(apperr.Invalid, "this endpoint takes one event; send batches to /v1/batch")
	case kind != "":
		if body, err = withType(body, top, kind); err != nil {
			return nil, err
		}
	}
	events, err := segment.Parse(body)
	if err != nil {
		return nil, err // a *segment.ParseError: 400 with its message
	}
	if len(events) > maxTrackingEvents {
		return nil, apperr.Errorf(apperr.Invalid, "%d events in one batch; the limit is %d", len(events), maxTrackingEvents)
	}
	for i, e := range events {
		if e.Type == "delete" {
			// Deletion requests come from Segment's side, never from a tracking library.
			return nil, apperr.Errorf(apperr.Invalid, `event %d: field "type": delete is not accepted by the HTTP API`, i)
		}
	}
	if err := stripWriteKeys(events); err != nil {
		return nil, &apperr.Error{Code: apperr.Invalid, Msg: err.Error(), Err: err}
	}
	// Like Segment's own Tracking API: an event sent without a messageId is
	// a new event each time it is sent, so two identical curl calls store
	// two events. (The webhook keeps the id derived from the bytes: Segment
	// always sends one there, and its retries must deduplicate.)
	segment.AssignMessageIDs(events, uuid.NewString)
	return events, nil
}

// topLevel decodes the body's top-level keys, their values left as text.
func topLevel(body []byte) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, badJSON(err)
	}
	if top == nil {
		return nil, apperr.New(apperr.Invalid, "body must be a JSON object, got null")
	}
	return top, nil
}

func badJSON(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return apperr.New(apperr.Invalid, "body must be a JSON object, got "+te.Value)
	}
	return apperr.New(apperr.Invalid, "body: invalid JSON: "+err.Error())
}

// withType makes sure a single call carries the type its path names. curl
// users often leave it out, so it is added as the first key by splicing the
// text, leaving every other byte as sent; a different type is refused.
func withType(body []byte, top map[string]json.RawMessage, kind string) ([]byte, error) {
	if v, ok := top["type"]; ok {
		var got string
		if err := json.Unmarshal(v, &got); err != nil || got != kind {
			return nil, apperr.Errorf(apperr.Invalid, `field "type" is %.40s but this endpoint takes %q events`, v, kind)
		}
		return body, nil
	}
	open := bytes.IndexByte(body, '{') // topLevel proved the body is an object
	rest := body[open+1:]
	sep := ","
	if t := bytes.TrimLeft(rest, " \t\r\n"); len(t) > 0 && t[0] == '}' {
		sep = ""
	}
	out := make([]byte, 0, len(body)+len(kind)+12)
	out = append(out, body[:open+1]...)
	out = append(out, `"type":"`...)
	out = append(out, kind...)
	out = append(out, '"')
	out = append(out, sep...)
	return append(out, rest...), nil
}

var writeKeyField = []byte(`"writeKey"`)

// stripWriteKeys removes a writeKey that analytics.js and curl users put
// inside events, so no key is ever stored in plaintext with the events
// admins browse. The key goes by its decoded name, so "write\u004bey" is
// removed too. Only events that mention one, or hold an escape that might
// spell one, are decoded and re-encoded.
func stripWriteKeys(events []segment.Event) error {
	for i := range events {
		if !bytes.Contains(events[i].Raw, writeKeyField) && !bytes.Contains(events[i].Raw, []byte(`\u`)) {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(events[i].Raw, &m); err != nil {
			return fmt.Errorf("event %d: invalid JSON: %w", i, err)
		}
		if _, ok := m["writeKey"]; !ok {
			continue // the text was inside a property
		}
		delete(m, "writeKey")
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep <, > and & as sent
		if err := enc.Encode(m); err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		events[i].Raw = bytes.TrimRight(buf.Bytes(), "\n")
	}
	return nil
}
