package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/inlet-dev/inlet/internal/store"
)

// CookieName is the session cookie.
const CookieName = "inlet_session"

// Session value keys.
const (
	KeyAdminID = "admin_id" // set by the store from the row, never saved in data
	KeyCSRF    = "csrf"
)

// BackgroundHeader marks a request a page makes on its own (a status poll):
// it is not activity, so an unattended open tab still reaches the idle limit.
const BackgroundHeader = "X-Inlet-Background"

// touchEvery limits activity writes: the idle clock moves at most once a
// minute per session, not on every page.
const touchEvery = time.Minute

// SessionStore keeps sessions in the database and only a signed random token
// in the cookie, so ending a session (sign out, password reset) takes effect
// everywhere at once. It implements sessions.Store.
type SessionStore struct {
	db       *store.Store
	codec    *securecookie.SecureCookie
	secure   bool
	idle     time.Duration
	absolute time.Duration
	now      func() time.Time
}

var _ sessions.Store = (*SessionStore)(nil)

// SessionOptions configure NewSessionStore.
type SessionOptions struct {
	Key      string        // SESSION_KEY or the generated one
	Secure   bool          // Secure cookie flag
	Idle     time.Duration // signed out after this long without a request (default 12h)
	Absolute time.Duration // signed out this long after sign-in, whatever the activity (default 7 days)
	Now      func() time.Time
}

// NewSessionStore builds the store; the key signs the cookie.
func NewSessionStore(db *store.Store, o SessionOptions) *SessionStore {
	if o.Idle <= 0 {
		o.Idle = 12 * time.Hour
	}
	if o.Absolute <= 0 {
		o.Absolute = 7 * 24 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	codec := securecookie.New(deriveKey(o.Key, "inlet session cookie v1"), nil)
	codec.MaxAge(int(o.Absolute.Seconds()))
	codec.SetSerializer(securecookie.NopEncoder{})
	return &SessionStore{db: db, codec: codec, secure: o.Secure, idle: o.Idle, absolute: o.Absolute, now: o.Now}
}

// deriveKey turns the configured key into a fixed-size key per purpose, so
// one SESSION_KEY can sign different cookies without their MACs mixing.
func deriveKey(key, purpose string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// digest is what the database keeps instead of the token.
func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s *SessionStore) options() *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: int(s.absolute.Seconds()), HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// Get returns the request's session, cached for the request by gorilla's registry.
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie. A missing, forged, expired or
// ended session gives a new empty one (IsNew) and no error: to the caller
// that is simply "not signed in".
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	sess.Options = s.options()
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var raw []byte
	if err := s.codec.Decode(name, c.Value, &raw); err != nil {
		return sess, nil
	}
	token := string(raw)
	row, err := s.db.Session(r.Context(), digest(token))
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	now := s.now()
	if !now.Before(row.ExpiresAt) || now.Sub(row.LastSeenAt) > s.idle {
		_ = s.db.DeleteSession(r.Context(), row.ID)
		return sess, nil
	}
	vals := map[string]string{}
	if err := json.Unmarshal([]byte(row.Data), &vals); err != nil {
		return sess, fmt.Errorf("session data: %w", err)
	}
	for k, v := range vals {
		sess.Values[k] = v
	}
	sess.Values[KeyAdminID] = row.AdminID.String()
	sess.ID = token
	sess.IsNew = false
	if now.Sub(row.LastSeenAt) > touchEvery && r.Header.Get(BackgroundHeader) == "" {
		if err := s.db.UpdateSession(r.Context(), row.ID, row.Data, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return sess, err
		}
	}
	return sess, nil
}

// Save writes the session. A new session needs KeyAdminID and gets a fresh
// token and cookie; Options.MaxAge < 0 ends the session and its cookie.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options != nil && sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.db.DeleteSession(ctx, digest(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	data, err := encodeValues(sess.Values)
	if err != nil {
		return err
	}
	if sess.ID != "" {
		err := s.db.UpdateSession(ctx, digest(sess.ID), data, s.now())
		if errors.Is(err, store.ErrNotFound) {
			return ErrSessionEnded
		}
		return err
	}
	admin, err := uuid.Parse(fmt.Sprint(sess.Values[KeyAdminID]))
	if err != nil {
		return errors.New("auth: a new session needs the admin's id")
	}
	token := NewToken()
	now := s.now()
	if err := s.db.CreateSession(ctx, store.AdminSession{
		ID: digest(token), AdminID: admin, Data: data, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.absolute),
	}); err != nil {
		return err
	}
	encoded, err := s.codec.Encode(sess.Name(), []byte(token))
	if err != nil {
		return fmt.Errorf("sign session cookie: %w", err)
	}
	sess.ID = token
	sess.IsNew = false
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, sess.Options))
	return nil
}

// ErrSessionEnded means the session was ended (elsewhere) while in use.
var ErrSessionEnded = errors.New("session has ended")

// Start signs an admin in: any session the browser had is ended and a new
// one (new token, new CSRF token) is created, so a token planted before
// sign-in is worthless after it.
func (s *SessionStore) Start(r *http.Request, w http.ResponseWriter, admin uuid.UUID) (*sessions.Session, error) {
	if old, err := s.New(r, CookieName); err == nil && old.ID != "" {
		if err := s.db.DeleteSession(r.Context(), digest(old.ID)); err != nil {
			return nil, err
		}
	}
	sess := sessions.NewSession(s, CookieName)
	sess.Options = s.options()
	sess.IsNew = true
	sess.Values[KeyAdminID] = admin.String()
	sess.Values[KeyCSRF] = NewToken()
	if err := s.Save(r, w, sess); err != nil {
		return nil, err
	}
	return sess, nil
}

// End signs the session out, server-side and in the browser.
func (s *SessionStore) End(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	sess.Options = s.options()
	sess.Options.MaxAge = -1
	return s.Save(r, w, sess)
}

// Prune deletes sessions past their limits.
func (s *SessionStore) Prune(ctx context.Context) (int64, error) {
	now := s.now()
	return s.db.DeleteSessionsBefore(ctx, now, now.Add(-s.idle))
}

func encodeValues(values map[any]any) (string, error) {
	out := make(map[string]string, len(values))
	for k, v := range values {
		ks, ok := k.(string)
		if !ok {
			return "", fmt.Errorf("auth: session key %v is not a string", k)
		}
		if ks == KeyAdminID {
			continue
		}
		vs, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("auth: session value %q is not a string", ks)
		}
		out[ks] = vs
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode session: %w", err)
	}
	return string(b), nil
}
