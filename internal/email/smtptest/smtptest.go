// Package smtptest runs a real SMTP server (emersion/go-smtp) on loopback
// for tests: it keeps what it receives, parsed with net/mail, and can
// refuse recipients with a chosen reply.
package smtptest

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message the server accepted.
type Mail struct {
	From string
	To   []string
	Raw  []byte
	Msg  *mail.Message // parsed from Raw; read its Body once
}

// Server is the running server.
type Server struct {
	Host string
	Port int
	// CountOnly keeps no message, only the count (benchmarks: memory
	// must not grow with the number sent).
	CountOnly bool

	mu      sync.Mutex
	count   int
	mails   []Mail
	refuse  map[string]*smtp.SMTPError // recipient → reply
	arrived chan struct{}
	srv     *smtp.Server
}

// Start listens on 127.0.0.1 and stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{refuse: map[string]*smtp.SMTPError{}, arrived: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest listen: %v", err)
	}
	addr := l.Addr().(*net.TCPAddr)
	s.Host, s.Port = "127.0.0.1", addr.Port
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

// Refuse makes RCPT TO rcpt answer code (e.g. 550, 451) with msg.
func (s *Server) Refuse(rcpt string, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse[strings.ToLower(rcpt)] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

// Accept lifts a Refuse.
func (s *Server) Accept(rcpt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refuse, strings.ToLower(rcpt))
}

// Mails is a copy of what arrived so far.
func (s *Server) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// Count is how many messages arrived.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// WaitFor waits until n messages arrived (or the timeout passed) and
// returns them.
func (s *Server) WaitFor(t testing.TB, n int, timeout time.Duration) []Mail {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if s.Count() >= n {
			return s.Mails()
		}
		select {
		case <-s.arrived:
		case <-deadline.C:
			t.Fatalf("smtptest: %d messages arrived, want %d within %s", s.Count(), n, timeout)
			return nil
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error { ss.from = from; return nil }

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	refusal := ss.s.refuse[strings.ToLower(to)]
	ss.s.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.s.CountOnly {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		ss.s.mu.Lock()
		ss.s.count++
		ss.s.mu.Unlock()
		ss.s.signal()
		return nil
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return errors.New("smtptest: message does not parse: " + err.Error())
	}
	ss.s.mu.Lock()
	ss.s.mails = append(ss.s.mails, Mail{From: ss.from, To: ss.to, Raw: raw, Msg: msg})
	ss.s.count++
	ss.s.mu.Unlock()
	ss.s.signal()
	return nil
}

func (s *Server) signal() {
	select {
	case s.arrived <- struct{}{}:
	default:
	}
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }
