package trackingapi_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/webtest"

	"github.com/inlet-dev/inlet/internal/testdb"
)

func apiBatch(n, size int, prefix string) []byte {
	items := make([]string, n)
	for i := range items {
		items[i] = webtest.TrackJSON(fmt.Sprintf("%s-%d", prefix, i), size)
	}
	return []byte(`{"batch":[` + strings.Join(items, ",") + `]}`)
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTrackingLimits(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))

	webtest.MustTrackingOK(t, "31 KB event", a.Post("/v1/track", []byte(webtest.TrackJSON("big-ok", 31<<10)), a.Auth()...))
	r := a.Post("/v1/track", []byte(webtest.TrackJSON("too-big", 33<<10)), a.Auth()...)
	webtest.MustTrackingRefuse(t, "33 KB event", r, 400)
	if !strings.Contains(r.Error, "too large") {
		t.Fatalf("33 KB event: %q", r.Error)
	}
	webtest.MustTrackingRefuse(t, "33 KB event in a batch", a.Post("/v1/batch", []byte(`{"batch":[`+webtest.TrackJSON("ok", 0)+","+webtest.TrackJSON("too-big-2", 33<<10)+`]}`), a.Auth()...), 400)

	webtest.MustTrackingOK(t, "2,500 events", a.Post("/v1/batch", apiBatch(2500, 0, "many"), a.Auth()...))
	if n := a.Count(); n != 2501 {
		t.Fatalf("want 2,501 events stored, have %d", n)
	}
	r = a.Post("/v1/batch", apiBatch(2501, 0, "too-many"), a.Auth()...)
	webtest.MustTrackingRefuse(t, "2,501 events", r, 400)
	if !strings.Contains(r.Error, "2500") {
		t.Fatalf("2,501 events: %q", r.Error)
	}

	big := apiBatch(20, 26<<10, "huge") // ~520 KB, each event within its own limit
	webtest.MustTrackingRefuse(t, "520 KB batch", a.Post("/v1/batch", big, a.Auth()...), 400)
	// Without a Content-Length (chunked), the limit still holds while reading.
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/v1/batch", io.MultiReader(bytes.NewReader(big)))
	req.SetBasicAuth(a.Raw, "")
	webtest.MustTrackingRefuse(t, "520 KB chunked batch", a.Do(req), 400)
	if n := a.Count(); n != 2501 {
		t.Fatalf("a refused batch stored events: %d", n)
	}
}

func TestTrackingGzip(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	webtest.MustTrackingOK(t, "gzip batch", a.Post("/v1/batch", gzipBytes(t, apiBatch(3, 0, "gz")), append(a.Auth(), "Content-Encoding", "gzip")...))
	a.Stored("gz-2")

	// A bomb: 64 MB once inflated, a few KB on the wire (gzip members of 1 MB
	// of spaces each, which a gzip reader reads one after another). Reading
	// stops at the limit.
	bomb := gzipBytes(t, []byte(`{"batch":[`))
	spaces := gzipBytes(t, bytes.Repeat([]byte(" "), 1<<20))
	for range 64 {
		bomb = append(bomb, spaces...)
	}
	if len(bomb) > 500<<10 {
		t.Fatalf("bomb is %d bytes compressed", len(bomb))
	}
	r := a.Post("/v1/batch", bomb, append(a.Auth(), "Content-Encoding", "gzip")...)
	webtest.MustTrackingRefuse(t, "gzip bomb", r, 400)
	if !strings.Contains(r.Error, "decompressed") {
		t.Fatalf("gzip bomb: %q", r.Error)
	}
	webtest.MustTrackingRefuse(t, "gzip bomb with the key in the body", a.Post("/v1/batch", bomb, "Content-Encoding", "gzip"), 400)
	webtest.MustTrackingRefuse(t, "not gzip", a.Post("/v1/batch", apiBatch(1, 0, "plain"), append(a.Auth(), "Content-Encoding", "gzip")...), 400)
	cut := gzipBytes(t, apiBatch(2, 0, "cut"))
	webtest.MustTrackingRefuse(t, "truncated gzip", a.Post("/v1/batch", cut[:len(cut)-10], append(a.Auth(), "Content-Encoding", "gzip")...), 400)
	webtest.MustTrackingRefuse(t, "brotli", a.Post("/v1/batch", apiBatch(1, 0, "br"), append(a.Auth(), "Content-Encoding", "br")...), 415)
	if n := a.Count(); n != 3 {
		t.Fatalf("want only the 3 good events, have %d", n)
	}
	webtest.MustTrackingOK(t, "still serving", a.Post("/v1/track", []byte(webtest.TrackJSON("after", 0)), a.Auth()...))
}

func TestTrackingCORS(t *testing.T) {
	t.Parallel()
	a := webtest.StartTracking(t, testdb.Open(t))
	const origin = "https://shop.example"
	for _, path := range []string{"/v1/batch", "/v1/t", "/v1/identify"} {
		req, _ := http.NewRequest(http.MethodOptions, a.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,authorization")
		r := a.Do(req)
		h := r.Header
		if r.Status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Encoding") ||
			h.Get("Access-Control-Max-Age") == "" {
			t.Fatalf("preflight %s: %d %v", path, r.Status, h)
		}
		if h.Get("Access-Control-Allow-Credentials") != "" {
			t.Fatalf("preflight %s must not allow credentials", path)
		}
	}
	r := a.Post("/v1/t", []byte(webtest.TrackJSON("cors", 0)), append(a.Auth(), "Origin", origin, "Content-Type", "text/plain")...)
	webtest.MustTrackingOK(t, "cross-origin post", r)
	if r.Header.Get("Access-Control-Allow-Origin") != "*" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("cross-origin post headers: %v", r.Header)
	}
	if r := a.Post("/v1/t", []byte(webtest.TrackJSON("cors2", 0)), "Origin", origin); r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatal("a refusal must be readable by the page too")
	}

	// Everything else stays same-origin.
	for _, c := range []struct{ method, path string }{
		{http.MethodOptions, "/api/public/webhooks/segment"},
		{http.MethodPost, "/api/public/webhooks/segment"},
		{http.MethodGet, "/login"},
		{http.MethodOptions, "/login"},
		{http.MethodGet, "/dashboard/settings"},
		{http.MethodOptions, "/dashboard/settings"},
		{http.MethodGet, "/healthz"},
	} {
		req, _ := http.NewRequest(c.method, a.URL+c.path, strings.NewReader("{}"))
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := apiNoRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s %s answered %s: %v", c.method, c.path, k, resp.Header.Get(k))
			}
		}
	}
}

var apiNoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
