package pathparam_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/web/pathparam"
	"github.com/labstack/echo/v4"
)

// Every id, escaped by the client as url.PathEscape does (and as the
// dashboard's links do), reaches the handler exactly as it was.
func TestGetDecodesWhateverTheClientEscaped(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.GET("/users/:id", func(c echo.Context) error {
		v, err := pathparam.Get(c, "id")
		if err != nil {
			return c.String(http.StatusBadRequest, "bad")
		}
		return c.String(http.StatusOK, v)
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	ids := []string{"a/b", "a%b", "a%2Fb", "%41", "a+b", "a b", "café ☕", "?x=1#y", "../admin", `q"<>\`, "a;b", strings.Repeat("é/", 100)}
	for _, id := range ids {
		res, err := http.Get(srv.URL + "/users/" + url.PathEscape(id))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != id {
			t.Errorf("id %q: %d %q", id, res.StatusCode, b)
		}
	}
}

// What is not text (invalid UTF-8, NUL), escaped or not, is refused.
func TestGetRefusesWhatIsNotText(t *testing.T) {
	t.Parallel()
	e := echo.New()
	e.GET("/users/:id", func(c echo.Context) error {
		if _, err := pathparam.Get(c, "id"); err != nil {
			return c.String(http.StatusBadRequest, "bad")
		}
		return c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	for _, path := range []string{"%FF", "a%00b", "%C3", "a%2F%FF"} {
		res, err := http.Get(srv.URL + "/users/" + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, res.StatusCode)
		}
	}
}
