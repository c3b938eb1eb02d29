package email

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"

	"strings"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/wneessen/go-mail"
)

// Server is an SMTP server with the From and Reply-To its mail carries.
type Server struct {
	config.SMTP
	FromName    string
	FromAddress string
	ReplyTo     string
	// TLSConfig overrides the TLS settings (tests trust their own CA).
	TLSConfig *tls.Config
}

// Configured says whether mail can be sent: a host and a From address.
func (s Server) Configured() bool { return s.Host != "" && s.FromAddress != "" }

// Message is one email to compose.
type Message struct {
	To      string
	Subject string
	HTML    string
	Text    string
	// ID becomes the Message-ID <ID>: the send key, so a repeat after a
	// crash carries the same one.
	ID string
	// Unsubscribe, when set, is the one-click URL of RFC 8058.
	Unsubscribe string
}

// Outcome is what became of one send.
type Outcome int

const (
	// Sent: the server accepted the message (after DATA).
	Sent Outcome = iota
	// Retry: a 4xx or a connection failure; sending again later may work.
	Retry
	// Bounced: a 5xx for the recipient, a hard bounce.
	Bounced
	// Failed: refused for good, not for the recipient (5xx elsewhere, a
	// message that cannot be composed).
	Failed
)

// Result is the outcome and the server's reply (or the error's text).
type Result struct {
	Outcome Outcome
	Reply   string
}

// Conn is one connection to an SMTP server, reused for many messages.
type Conn struct {
	srv    Server
	client *mail.Client
}

// dialTimeout bounds connecting and each SMTP command.
const dialTimeout = 15 * time.Second

// Dial connects to srv (and authenticates when it has a user).
func Dial(ctx context.Context, srv Server) (*Conn, error) {
	if srv.Host == "" {
		return nil, errors.New("no SMTP server configured")
	}
	opts := []mail.Option{mail.WithPort(srv.Port), mail.WithTimeout(dialTimeout), mail.WithHELO(helo(srv.FromAddress))}
	tlsConf := srv.TLSConfig
	if tlsConf == nil {
		tlsConf = &tls.Config{ServerName: srv.Host, MinVersion: tls.VersionTLS12}
	}
	opts = append(opts, mail.WithTLSConfig(tlsConf))
	switch srv.TLSMode {
	case config.TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case config.TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if srv.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(srv.Username), mail.WithPassword(srv.Password))
	}
	c, err := mail.NewClient(srv.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP client for %s: %w", srv.Addr(), err)
	}
	if err := c.DialWithContext(ctx); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", srv.Addr(), err)
	}
	return &Conn{srv: srv, client: c}, nil
}

// helo is the name we greet with: the From address's domain, a name
// servers accept more readily than "localhost".
func helo(from string) string {
	if _, domain, ok := strings.Cut(from, "@"); ok && domain != "" {
		return domain
	}
	return "localhost"
}

// Close ends the connection politely (QUIT).
func (c *Conn) Close() error { return c.client.Close() }

// Send composes m and sends it over the connection. A Retry or Failed
// outcome that came from the connection (not an SMTP reply) leaves the
// connection unusable: the caller dials again.
func (c *Conn) Send(ctx context.Context, m Message) Result {
	msg, err := c.compose(m)
	if err != nil {
		return Result{Outcome: Failed, Reply: err.Error()}
	}
	if err := c.client.Send(msg); err != nil {
		return classify(err)
	}
	// go-mail keeps the text of the reply to DATA, not its code; an
	// accepted DATA is always 250.
	reply := msg.ServerResponse()
	if len(reply) < 3 || reply[0] < '2' || reply[0] > '5' || reply[1] < '0' || reply[1] > '9' || reply[2] < '0' || reply[2] > '9' {
		reply = "250 " + reply
	}
	return Result{Outcome: Sent, Reply: reply}
}

func (c *Conn) compose(m Message) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.FromFormat(c.srv.FromName, c.srv.FromAddress); err != nil {
		return nil, fmt.Errorf("From %q: %w", c.srv.FromAddress, err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("To: %w", err)
	}
	if c.srv.ReplyTo != "" {
		if err := msg.ReplyTo(c.srv.ReplyTo); err != nil {
			return nil, fmt.Errorf("Reply-To %q: %w", c.srv.ReplyTo, err)
		}
	}
	msg.Subject(m.Subject)
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	if m.Unsubscribe != "" {
		msg.SetGenHeaderPreformatted(mail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeaderPreformatted(mail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	switch {
	case m.HTML != "" && m.Text != "":
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	case m.HTML != "":
		msg.SetBodyString(mail.TypeTextHTML, m.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, m.Text)
	}
	return msg, nil
}

// classify turns a send error into an outcome: 5xx at RCPT TO is a hard
// bounce of that address, other 5xx a failure, the rest worth a retry.
func classify(err error) Result {
	var se *mail.SendError
	if !errors.As(err, &se) {
		return Result{Outcome: Retry, Reply: err.Error()}
	}
	code := se.ErrorCode()
	reply := replyText(se)
	switch {
	case se.IsTemp() || code == 0 || (code >= 400 && code < 500):
		return Result{Outcome: Retry, Reply: reply}
	case se.Reason == mail.ErrSMTPRcptTo && code >= 500:
		return Result{Outcome: Bounced, Reply: reply}
	case code >= 500:
		return Result{Outcome: Failed, Reply: reply}
	}
	return Result{Outcome: Retry, Reply: reply}
}

// replyText is the server's answer inside a SendError: "550 5.1.1 no
// such user", without go-mail's reason prefix and recipient suffix.
func replyText(se *mail.SendError) string {
	s := se.Error()
	if code := se.ErrorCode(); code != 0 {
		if i := strings.Index(s, fmt.Sprintf("%d ", code)); i >= 0 {
			s = s[i:]
		}
	}
	s, _, _ = strings.Cut(s, ", affected ")
	return s
}
