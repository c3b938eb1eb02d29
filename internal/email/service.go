package email

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/store"
)

// Defaults are what every workspace uses unless its #email settings say
// otherwise (SMTP_URL, EMAIL_FROM, EMAIL_FREQUENCY_CAP).
type Defaults struct {
	SMTP         config.SMTP
	FromName     string
	FromAddress  string
	FrequencyCap config.FrequencyCap
}

// DefaultsFrom reads the defaults from the configuration.
func DefaultsFrom(c *config.Config) Defaults {
	return Defaults{SMTP: c.SMTP, FromName: c.EmailFromName, FromAddress: c.EmailFrom, FrequencyCap: c.EmailFrequencyCap}
}

// Service is email as the surfaces use it: settings with their defaults,
// templates, test sends and unsubscribe links.
type Service struct {
	Store    *store.Store
	Defaults Defaults
	BaseURL  string

	mu     sync.Mutex
	tokens *Tokens // made from the key kept in the database, on first use
	// TLSConfig, when set, is used for every connection (tests).
	TLSConfig *tls.Config
}

// Effective is a workspace's SMTP server, From and cap: its own settings,
// each empty field taken from the defaults. A workspace's own host
// replaces the whole default server (user, password and TLS mode with it).
func (s *Service) Effective(ctx context.Context, ws uuid.UUID) (Server, config.FrequencyCap, error) {
	own, err := s.Store.EmailSettings(ctx, ws)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return Server{}, config.FrequencyCap{}, err
	}
	srv := Server{SMTP: s.Defaults.SMTP, FromName: s.Defaults.FromName, FromAddress: s.Defaults.FromAddress, TLSConfig: s.TLSConfig}
	if own.Host != "" {
		srv.SMTP = config.SMTP{Host: own.Host, Port: own.Port, Username: own.Username, Password: own.Password, TLSMode: own.TLSMode}
	}
	if own.FromAddress != "" {
		srv.FromName, srv.FromAddress = own.FromName, own.FromAddress
	}
	srv.ReplyTo = own.ReplyTo
	capping := s.Defaults.FrequencyCap
	if own.FrequencyCap != "" {
		if c, err := config.ParseFrequencyCap(own.FrequencyCap); err == nil {
			capping = c
		}
	}
	return srv, capping, nil
}

// SendTest sends one short email to to and returns the server's reply.
func (s *Service) SendTest(ctx context.Context, ws uuid.UUID, to string) (Result, error) {
	if _, err := mail.ParseAddress(to); err != nil {
		return Result{}, fmt.Errorf("%q is not an email address", to)
	}
	srv, _, err := s.Effective(ctx, ws)
	if err != nil {
		return Result{}, err
	}
	if !srv.Configured() {
		return Result{}, errors.New("no SMTP server and From address: set them in this section or SMTP_URL and EMAIL_FROM")
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := Dial(dctx, srv)
	if err != nil {
		return Result{Outcome: Retry, Reply: err.Error()}, nil
	}
	defer func() { _ = conn.Close() }()
	return conn.Send(dctx, Message{To: to, Subject: "Inlet test email",
		Text: "This is a test email from Inlet. If you can read it, the SMTP settings of this workspace work.",
		HTML: "<p>This is a test email from Inlet. If you can read it, the SMTP settings of this workspace work.</p>"}), nil
}

// unsubscribeKeySetting names the HMAC key of unsubscribe tokens in the
// settings table: generated once, shared by every instance.
const unsubscribeKeySetting = "unsubscribe_key"

// Tokens makes and checks unsubscribe tokens with the key kept in the
// database (made on first use), so every instance and every restart
// accepts the links already sent.
func (s *Service) Tokens(ctx context.Context) (*Tokens, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tokens != nil {
		return s.tokens, nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	key, err := s.Store.SettingOrCreate(ctx, unsubscribeKeySetting, hex.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("unsubscribe key: %w", err)
	}
	raw, err := hex.DecodeString(key)
	if err != nil || len(raw) < 32 {
		return nil, errors.New("unsubscribe key in the settings table is not 32 hex-encoded bytes")
	}
	s.tokens = NewTokens(raw)
	return s.tokens, nil
}

// UnsubscribeURL is the one-click URL of (workspace, user, group).
func (s *Service) UnsubscribeURL(ctx context.Context, ws uuid.UUID, userID, group string) (string, error) {
	tk, err := s.Tokens(ctx)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(s.BaseURL, "/") + "/u/" + tk.Make(Subscriber{Workspace: ws, UserID: userID, Group: group}), nil
}

// Vars are a template's variables for a user (traits as the profile
// holds them), the triggering event and an audience key.
func Vars(userID string, traits map[string]json.RawMessage, event map[string]any, audience, unsubscribeURL string) map[string]any {
	t := make(map[string]any, len(traits))
	for k, raw := range traits {
		var v any
		if json.Unmarshal(raw, &v) == nil {
			t[k] = v
		}
	}
	if event == nil {
		event = map[string]any{}
	}
	return map[string]any{
		"user":            map[string]any{"userId": userID, "traits": t},
		"event":           event,
		"audience":        audience,
		"unsubscribe_url": unsubscribeURL,
		"preferences_url": unsubscribeURL,
	}
}
