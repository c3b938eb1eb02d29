package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/labstack/echo/v4"
)

// A value shown once after a redirect (a new write key) must survive the
// redirect without being kept anywhere readable: sessions live in the
// database, so the session keeps it sealed with AES-GCM, and only the
// browser holds the key, in a short-lived cookie for the settings page.
// The GET that shows it deletes both, so a reload shows nothing, and
// neither a copy of the database nor the cookie alone reveals it.
const (
	onceCookie     = "inlet_once"
	onceCookiePath = "/dashboard/settings"
	onceMaxAge     = 300 // seconds: long enough for a slow redirect, no longer
	sessOnce       = "once_"
)

// keepOnce seals value under name for the next settings page.
func (h *Handler) keepOnce(c echo.Context, name, value string) error {
	sess := h.session(c)
	if sess == nil {
		return fmt.Errorf("keep %s: no session", name)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("keep %s: %w", name, err)
	}
	aead, err := onceAEAD(key)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return fmt.Errorf("keep %s: %w", name, err)
	}
	sealed := aead.Seal(nonce, nonce, []byte(value), []byte(name))
	sess.Values[sessOnce+name] = base64.RawURLEncoding.EncodeToString(sealed)
	h.saveSession(c)
	c.SetCookie(&http.Cookie{Name: onceCookie, Value: base64.RawURLEncoding.EncodeToString(key), Path: onceCookiePath,
		MaxAge: onceMaxAge, HttpOnly: true, Secure: h.Auth.SecureCookies(), SameSite: http.SameSiteStrictMode})
	return nil
}

// takeOnce returns the value kept under name and forgets it on both sides.
// A request refreshing part of a page never takes it.
func (h *Handler) takeOnce(c echo.Context, name string) (string, bool) {
	sess := h.session(c)
	if sess == nil || c.Request().Header.Get(auth.BackgroundHeader) != "" {
		return "", false
	}
	sealed, _ := sess.Values[sessOnce+name].(string)
	ck, err := c.Cookie(onceCookie)
	if sealed == "" {
		return "", false
	}
	delete(sess.Values, sessOnce+name)
	h.saveSession(c)
	c.SetCookie(&http.Cookie{Name: onceCookie, Value: "", Path: onceCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: h.Auth.SecureCookies(), SameSite: http.SameSiteStrictMode})
	if err != nil {
		return "", false
	}
	key, err1 := base64.RawURLEncoding.DecodeString(ck.Value)
	raw, err2 := base64.RawURLEncoding.DecodeString(sealed)
	if err1 != nil || err2 != nil || len(key) != 32 {
		return "", false
	}
	aead, err := onceAEAD(key)
	if err != nil || len(raw) < aead.NonceSize() {
		return "", false
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(name))
	if err != nil {
		return "", false
	}
	return string(plain), true
}

func onceAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("one-time value cipher: %w", err)
	}
	return cipher.NewGCM(block)
}
