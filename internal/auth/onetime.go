package auth

import (
	"net/http"

	"github.com/gorilla/securecookie"
)

// A one-time value carries something shown once across a post/redirect/get
// (a new API token) without any server keeping it: it travels in a cookie
// encrypted and authenticated with keys derived from SESSION_KEY, limited
// to one path, living a minute, and deleted by the page that shows it. The
// database never sees the plaintext, and any instance can read it.
const oneTimeMaxAge = 60

func newOneTimeCodec(key string) *securecookie.SecureCookie {
	c := securecookie.New(deriveKey(key, "inlet one-time value v1 mac"), deriveKey(key, "inlet one-time value v1 aes"))
	c.MaxAge(oneTimeMaxAge)
	return c
}

// SetOneTime leaves value for the next GET of path (the redirect target).
func (a *Service) SetOneTime(w http.ResponseWriter, name, path string, value map[string]string) error {
	enc, err := a.onceCodec.Encode(name, value)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: enc, Path: path, MaxAge: oneTimeMaxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode})
	return nil
}

// TakeOneTime returns the value SetOneTime left, and deletes the cookie so a
// reload shows nothing; ok is false when there is none (or it expired or was
// tampered with).
func (a *Service) TakeOneTime(w http.ResponseWriter, r *http.Request, name, path string) (map[string]string, bool) {
	c, err := r.Cookie(name)
	if err != nil {
		return nil, false
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode})
	var v map[string]string
	if err := a.onceCodec.Decode(name, c.Value, &v); err != nil {
		return nil, false
	}
	return v, true
}
