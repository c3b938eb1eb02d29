// Package loadgen sends signed Segment webhook requests the way Segment does
// (many concurrent senders, retries on 503/429) and keeps what the server
// acknowledged, so a run can be checked against the database afterwards.
// cmd/inlet-load is its command line; test/reliability drives it directly.
package loadgen

import (
	"bytes"
	"strconv"
	"time"

	"github.com/inlet-dev/inlet/internal/segment"
)

// padding fills events up to Factory.Size.
var padding = bytes.Repeat([]byte("x"), 64<<10)

// Body is one request ready to send: the bytes, their X-Signature and the
// messageIds they carry.
type Body struct {
	Bytes      []byte
	Signature  string
	MessageIDs []string
}

// Factory builds unique, correctly signed track events of about Size bytes.
type Factory struct {
	RunID  string // prefix of every messageId, so runs never collide
	Secret []byte
	Size   int // approximate bytes per event
}

// MessageID is the messageId of event seq from sender s.
func (f *Factory) MessageID(s, seq int) string {
	return f.RunID + "-" + strconv.Itoa(s) + "-" + strconv.Itoa(seq)
}

// Event returns one track event's JSON text. It is built by appending into
// one buffer: the sender shares the machine with the server it measures, so
// what it spends per event is taken from the server.
func (f *Factory) Event(s, seq int, now time.Time) []byte {
	b := make([]byte, 0, f.Size+64)
	b = append(b, `{"type":"track","event":"Load Test Event","messageId":"`...)
	b = append(b, f.RunID...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(s), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `","userId":"user-`...)
	b = strconv.AppendInt(b, int64(seq%1000), 10)
	b = append(b, `","anonymousId":"anon-`...)
	b = strconv.AppendInt(b, int64(s), 10)
	b = append(b, `","timestamp":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","sentAt":"`...)
	b = now.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","context":{"library":{"name":"inlet-load","version":"1.0.0"},"ip":"203.0.113.7",`...)
	b = append(b, `"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",`...)
	b = append(b, `"page":{"path":"/pricing","url":"https://example.com/pricing?utm_source=load"}},"properties":{"plan":"pro","seq":`...)
	b = strconv.AppendInt(b, int64(seq), 10)
	b = append(b, `,"padding":"`...)
	if pad := f.Size - len(b) - 3; pad > 0 {
		b = append(b, padding[:min(pad, len(padding))]...)
	}
	return append(b, `"}}`...)
}

// Build returns a body of k events starting at seq. One event is sent as an
// object, several as a JSON array, each signed over the whole body: arrays
// signed over element 0 only (Segment's Webhooks (Actions) batching) are
// refused unless a workspace opts in, and then take their own path.
func (f *Factory) Build(s, seq, k int, now time.Time) Body {
	if k <= 1 {
		ev := f.Event(s, seq, now)
		return Body{Bytes: ev, Signature: segment.Sign(f.Secret, ev), MessageIDs: []string{f.MessageID(s, seq)}}
	}
	var b bytes.Buffer
	ids := make([]string, 0, k)
	b.WriteByte('[')
	for i := range k {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(f.Event(s, seq+i, now))
		ids = append(ids, f.MessageID(s, seq+i))
	}
	b.WriteByte(']')
	return Body{Bytes: b.Bytes(), Signature: segment.Sign(f.Secret, b.Bytes()), MessageIDs: ids}
}
