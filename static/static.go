// Package static holds the dashboard's CSS and JavaScript, embedded in the
// binary and served at content-hash URLs so browsers may cache them forever:
// a changed file gets a new URL.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Prefix is where the assets are served.
const Prefix = "/static/"

type asset struct {
	hash  string
	body  []byte
	ctype string
}

var assets = mustLoad()

func mustLoad() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic("static: " + err.Error()) // embedded at build time: cannot fail at run time
	}
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			panic("static: " + err.Error())
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[e.Name()] = asset{hash: hex.EncodeToString(sum[:6]), body: b, ctype: ctype}
	}
	return out
}

// URL is the cache-busting address of an embedded file, e.g.
// /static/3f2a9c01b7de/app.css. An unknown name yields a URL that 404s, so a
// typo shows up as a missing asset rather than a crash.
func URL(name string) string {
	a, ok := assets[name]
	if !ok {
		return Prefix + "missing/" + name
	}
	return Prefix + a.hash + "/" + name
}

// Names lists the embedded files (for tests).
func Names() []string {
	out := make([]string, 0, len(assets))
	for n := range assets {
		out = append(out, n)
	}
	return out
}

// Handler serves /static/<hash>/<name>. The right hash gets a year-long
// immutable cache; a stale hash (a page rendered before a deploy) still gets
// the current file, but uncached, so it never pins old content.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, Prefix)
		hash, name, ok := strings.Cut(rest, "/")
		a, found := assets[name]
		if !ok || !found || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("X-Content-Type-Options", "nosniff")
		if hash == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		h.Set("ETag", `"`+a.hash+`"`)
		if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(a.body)
	})
}
