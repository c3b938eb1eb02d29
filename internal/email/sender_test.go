package email_test

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/email/smtptest"
)

func localServer(s *smtptest.Server) email.Server {
	return email.Server{SMTP: config.SMTP{Host: s.Host, Port: s.Port, TLSMode: config.TLSNone},
		FromName: "Inlet Ünïcode", FromAddress: "news@example.com", ReplyTo: "help@example.com"}
}

// parts reads a message's text and HTML parts from its MIME structure.
func parts(t *testing.T, m *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %s, want multipart/alternative", mt)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		b, _ := io.ReadAll(p)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
}

func TestSendComposesBothPartsAndHeaders(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	ctx := context.Background()
	conn, err := email.Dial(ctx, localServer(s))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Three messages over one connection: it is reused.
	for i, to := range []string{"ann@example.org", "bob@example.org", "cy@example.org"} {
		r := conn.Send(ctx, email.Message{To: to, Subject: "Grüße, " + to, HTML: "<p>Hallo <b>" + to + "</b></p>",
			Text: "Hallo " + to, ID: "j.i" + string(rune('0'+i)) + ".s@inlet", Unsubscribe: "https://inlet.example/u/TOKEN"})
		if r.Outcome != email.Sent || !strings.HasPrefix(r.Reply, "2") {
			t.Fatalf("send %d: %+v", i, r)
		}
	}
	mails := s.WaitFor(t, 3, 10*time.Second)
	m := mails[0]
	if m.From != "news@example.com" || len(m.To) != 1 || m.To[0] != "ann@example.org" {
		t.Errorf("envelope %s → %v", m.From, m.To)
	}
	h := m.Msg.Header
	dec := new(mime.WordDecoder)
	subj, _ := dec.DecodeHeader(h.Get("Subject"))
	if subj != "Grüße, ann@example.org" {
		t.Errorf("Subject %q", subj)
	}
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Name != "Inlet Ünïcode" || from.Address != "news@example.com" {
		t.Errorf("From %q (%v)", h.Get("From"), err)
	}
	if h.Get("Reply-To") != "<help@example.com>" && h.Get("Reply-To") != "help@example.com" {
		t.Errorf("Reply-To %q", h.Get("Reply-To"))
	}
	if h.Get("Message-Id") != "<j.i0.s@inlet>" {
		t.Errorf("Message-ID %q", h.Get("Message-Id"))
	}
	if h.Get("List-Unsubscribe") != "<https://inlet.example/u/TOKEN>" || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe %q / %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
	}
	text, html := parts(t, m.Msg)
	if strings.TrimSpace(text) != "Hallo ann@example.org" || strings.TrimSpace(html) != "<p>Hallo <b>ann@example.org</b></p>" {
		t.Errorf("parts %q / %q", text, html)
	}
}

func TestSendClassifiesRefusals(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	s.Refuse("gone@example.org", 550, "no such user")
	s.Refuse("later@example.org", 451, "try again later")
	ctx := context.Background()
	conn, err := email.Dial(ctx, localServer(s))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if r := conn.Send(ctx, email.Message{To: "gone@example.org", Subject: "x", Text: "x"}); r.Outcome != email.Bounced || !strings.Contains(r.Reply, "550") || !strings.Contains(r.Reply, "no such user") {
		t.Errorf("550: %+v, want Bounced with the reply", r)
	}
	if r := conn.Send(ctx, email.Message{To: "later@example.org", Subject: "x", Text: "x"}); r.Outcome != email.Retry || !strings.Contains(r.Reply, "451") {
		t.Errorf("451: %+v, want Retry", r)
	}
	// The connection still works after refusals.
	if r := conn.Send(ctx, email.Message{To: "ok@example.org", Subject: "x", Text: "x"}); r.Outcome != email.Sent {
		t.Errorf("after refusals: %+v", r)
	}
	if n := len(s.WaitFor(t, 1, 10*time.Second)); n != 1 {
		t.Errorf("%d messages arrived, want 1", n)
	}
}

func TestDialFailureIsRetry(t *testing.T) {
	t.Parallel()
	s := smtptest.Start(t)
	srv := localServer(s)
	srv.TLSMode = config.TLSStartTLS // the test server offers no STARTTLS: refused, not sent in clear
	if _, err := email.Dial(context.Background(), srv); err == nil {
		t.Fatal("STARTTLS required but the server has none: dial must fail")
	}
}
