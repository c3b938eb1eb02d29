package webtest

import (
	"io"
	"net/http"
	"testing"
)

// Token is a client of /api/v1 with a bearer API token.
type Token struct {
	T     testing.TB
	URL   string // the server's base URL
	Token string // sent as "Authorization: Bearer …" unless empty
}

// Do sends method path with header name/value pairs and returns the
// status, header and body as sent: the transport does not ask for or undo
// compression, so a test sees exactly what the server chose.
func (c Token) Do(method, path string, hdr ...string) (int, http.Header, []byte) {
	c.T.Helper()
	req, err := http.NewRequest(method, c.URL+path, nil)
	if err != nil {
		c.T.Fatal(err)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.T.Fatalf("read %s %s: %v", method, path, err)
	}
	return res.StatusCode, res.Header, b
}
