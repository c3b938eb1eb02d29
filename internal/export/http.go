package export

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/store"
)

// Serve answers an export request: every event matching f as NDJSON, page
// by page, gzip when the client accepts it. The API's export and the
// dashboard's Export link both use it. Once the status is sent a failure
// can only cut the stream short, which the client sees as a truncated body;
// the error is returned for the caller's log.
func Serve(w http.ResponseWriter, r *http.Request, st Lister, f store.EventFilter, filename string) error {
	h := w.Header()
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "no-store")
	h.Add("Vary", "Accept-Encoding")
	// The server's write timeout bounds ordinary answers; an export of
	// millions of events may take minutes, so each page gets its own.
	rc := http.NewResponseController(w)
	extend := func() { _ = rc.SetWriteDeadline(time.Now().Add(time.Minute)) }
	extend()
	var out io.Writer = w
	flush := func() error { _ = rc.Flush(); extend(); return nil }
	var gz *gzip.Writer
	if AcceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		gz = gzip.NewWriter(w)
		out = gz
		flush = func() error {
			if err := gz.Flush(); err != nil {
				return err
			}
			_ = rc.Flush()
			extend()
			return nil
		}
	}
	w.WriteHeader(http.StatusOK)
	_, err := Write(r.Context(), st, f, out, flush)
	if gz != nil {
		if cerr := gz.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// AcceptsGzip reads Accept-Encoding: gzip (or *) with a q-value above 0.
func AcceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		return q > 0
	}
	return false
}
