package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/securecookie"
	"github.com/inlet-dev/inlet/internal/store"
	"golang.org/x/crypto/bcrypt"
)

// sessionKeySetting is where the generated session key is kept when
// SESSION_KEY is unset, so a restart signs nobody out.
const sessionKeySetting = "session_key"

// loginCookie carries the sign-in form's CSRF token before there is a session.
const loginCookie = "inlet_login"

// Options configure New.
type Options struct {
	SessionKey string // SESSION_KEY; empty = generated once and kept in the database
	Secure     bool   // Secure cookies
	Idle       time.Duration
	Absolute   time.Duration
	Now        func() time.Time
	// PasswordCost is bcrypt's work factor for passwords this service hashes
	// (default DefaultPasswordCost). Tests lower it: bcrypt under the race
	// detector is slow.
	PasswordCost int
}

// Service is the dashboard's authentication: accounts, sessions, throttling.
type Service struct {
	Sessions   *SessionStore
	db         *store.Store
	throttle   *Throttle
	loginCodec *securecookie.SecureCookie
	secure     bool
	cost       int
	dummy      string // hash compared against for unknown emails
}

// New loads (or generates and stores) the session key and builds the service.
func New(ctx context.Context, db *store.Store, o Options) (*Service, error) {
	key := o.SessionKey
	if key == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		var err error
		key, err = db.SettingOrCreate(ctx, sessionKeySetting, hex.EncodeToString(b))
		if err != nil {
			return nil, fmt.Errorf("session key: %w", err)
		}
	}
	cost := o.PasswordCost
	if cost == 0 {
		cost = DefaultPasswordCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("password cost %d is outside bcrypt's %d..%d", cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	lc := securecookie.New(deriveKey(key, "inlet login form v1"), nil)
	lc.MaxAge(3600)
	lc.SetSerializer(securecookie.NopEncoder{})
	return &Service{
		Sessions: NewSessionStore(db, SessionOptions{Key: key, Secure: o.Secure, Idle: o.Idle, Absolute: o.Absolute, Now: o.Now}),
		db:       db,
		// Limits per quarter hour, then 30 s, 1 min, 2 min… up to 15 min.
		throttle:   NewThrottle(accountAtAddrLimit, 15*time.Minute, 30*time.Second, 15*time.Minute),
		loginCodec: lc,
		secure:     o.Secure,
		cost:       cost,
		dummy:      dummyHash(cost),
	}, nil
}

// SetClock replaces the throttles' clock (tests only).
func (a *Service) SetClock(now func() time.Time) {
	a.throttle.Now = now
}

// Sign-in limits per window. Per account *at an address*, not per account
// alone: a per-account lock let anyone lock the admin out from anywhere.
// Per address, looser, since several admins may share one office address;
// it bounds guessing across many accounts from one place.
const (
	accountAtAddrLimit = 5
	addrLimit          = 20
)

// ThrottledError says sign-in is refused for a while.
type ThrottledError struct{ RetryAfter time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins: try again in %s", roundUp(e.RetryAfter))
}

func roundUp(d time.Duration) time.Duration {
	return d.Truncate(time.Second) + time.Second
}

// SignIn checks an email and password from addr. It returns
// ErrBadCredentials for either half being wrong, or *ThrottledError while
// too many failures are recent; a throttled attempt is refused even with the
// right password, so guessing gains nothing from waiting out the answer.
func (a *Service) SignIn(ctx context.Context, addr, email, password string) (store.Admin, error) {
	acct := store.NormalizeEmail(email)
	pair := "acct\x00" + acct + "\x00" + addr
	// Checked and counted in one step: parallel guesses cannot all pass the
	// check before any of them is counted.
	attempt, wait := a.throttle.Begin(Check{Key: pair, Limit: accountAtAddrLimit}, Check{Key: "addr\x00" + addr, Limit: addrLimit})
	if attempt == nil {
		return store.Admin{}, &ThrottledError{RetryAfter: wait}
	}
	ok := false
	defer func() { attempt.Done(ok, pair) }()
	admin, err := a.db.AdminByEmail(ctx, acct)
	hash := admin.PasswordHash
	if errors.Is(err, store.ErrNotFound) {
		hash = a.dummy
	} else if err != nil {
		attempt.Abandon()
		return store.Admin{}, err
	}
	if !checkPassword(hash, password) || admin.Email == "" {
		return store.Admin{}, ErrBadCredentials
	}
	ok = true
	return admin, nil
}

// Admin returns the signed-in admin by id.
func (a *Service) Admin(ctx context.Context, id uuid.UUID) (store.Admin, error) {
	return a.db.AdminByID(ctx, id)
}

// CreateAdmin validates and adds an admin.
func (a *Service) CreateAdmin(ctx context.Context, email, password string) (store.Admin, error) {
	return createAdmin(ctx, a.db, email, password, a.cost)
}

// CreateAdmin validates and adds an admin (also used by the CLI, which has no Service).
func CreateAdmin(ctx context.Context, db *store.Store, email, password string) (store.Admin, error) {
	return createAdmin(ctx, db, email, password, DefaultPasswordCost)
}

func createAdmin(ctx context.Context, db *store.Store, email, password string, cost int) (store.Admin, error) {
	if err := ValidateEmail(email); err != nil {
		return store.Admin{}, err
	}
	hash, err := hashPassword(password, cost)
	if err != nil {
		return store.Admin{}, err
	}
	admin, err := db.CreateAdmin(ctx, email, hash)
	if errors.Is(err, store.ErrConflict) {
		return store.Admin{}, fmt.Errorf("an admin with email %s already exists (use reset-password)", store.NormalizeEmail(email))
	}
	return admin, err
}

// ResetPassword sets a new password and ends all of that admin's sessions.
func ResetPassword(ctx context.Context, db *store.Store, email, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	err = db.SetAdminPassword(ctx, email, hash)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no admin with email %s", store.NormalizeEmail(email))
	}
	return err
}

// ValidateEmail is a plausibility check, not RFC 5322: something@something.
func ValidateEmail(email string) error {
	e := strings.TrimSpace(email)
	at := strings.LastIndexByte(e, '@')
	switch {
	case e == "":
		return errors.New("email is required")
	case len(e) > 254:
		return errors.New("email is longer than 254 characters")
	case at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n<>\"") || !strings.Contains(e[at:], "."):
		return fmt.Errorf("%q is not an email address", e)
	}
	return nil
}

// EnsureFirstAdmin creates the admin from ADMIN_EMAIL/ADMIN_PASSWORD when no
// admin exists yet; with no admin and no variables it logs how to make one.
func EnsureFirstAdmin(ctx context.Context, db *store.Store, email, password string, log *slog.Logger) error {
	n, err := db.CountAdmins(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		if email != "" {
			// The variables only ever create the first admin; saying so keeps an
			// admin from believing a changed ADMIN_PASSWORD took effect.
			log.Warn("ADMIN_EMAIL and ADMIN_PASSWORD are set but an admin already exists, so they are ignored; "+
				"to change a password use `inlet admin reset-password --email "+store.NormalizeEmail(email)+"`, "+
				"to add an admin `inlet admin create --email …`, then unset them",
				"admin_email", store.NormalizeEmail(email))
		}
		return nil
	}
	if email == "" {
		log.Warn("no dashboard admin exists yet: set ADMIN_EMAIL and ADMIN_PASSWORD and restart, "+
			"or run `inlet admin create --email you@example.com` (from a source checkout: `go run ./cmd/inlet admin create --email you@example.com`; it asks for the password, and works while Inlet runs)",
			"dashboard", "/dashboard/settings")
		return nil
	}
	if err := ValidateEmail(email); err != nil {
		return fmt.Errorf("ADMIN_EMAIL: %w", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return fmt.Errorf("ADMIN_PASSWORD: %w", err)
	}
	created, err := db.CreateFirstAdmin(ctx, email, hash)
	if err != nil {
		return err
	}
	if created {
		log.Info("created the first dashboard admin from ADMIN_EMAIL", "email", store.NormalizeEmail(email))
	} else {
		log.Warn("ADMIN_EMAIL and ADMIN_PASSWORD are set but another instance created an admin first, so they are ignored; " +
			"an admin already exists: use `inlet admin reset-password --email " + store.NormalizeEmail(email) + "` to change a password")
	}
	return nil
}

// LoginToken returns the sign-in form's CSRF token, setting its cookie when
// the browser has none (or a bad one). Login CSRF matters: without it a site
// could sign a visitor in as the attacker.
func (a *Service) LoginToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if tok, ok := a.loginTokenFromCookie(r); ok {
		return tok, nil
	}
	tok := NewToken()
	enc, err := a.loginCodec.Encode(loginCookie, []byte(tok))
	if err != nil {
		return "", fmt.Errorf("sign login cookie: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: enc, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	return tok, nil
}

// CheckLoginToken compares the form's token with the cookie's, in constant time.
func (a *Service) CheckLoginToken(r *http.Request, formToken string) bool {
	tok, ok := a.loginTokenFromCookie(r)
	return ok && TokensEqual(tok, formToken)
}

func (a *Service) loginTokenFromCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return "", false
	}
	var raw []byte
	if err := a.loginCodec.Decode(loginCookie, c.Value, &raw); err != nil || len(raw) == 0 {
		return "", false
	}
	return string(raw), true
}

// SecureCookies says whether cookies set for the dashboard carry the Secure
// flag (BASE_URL is https), for cookies set outside this package.
func (a *Service) SecureCookies() bool { return a.secure }
