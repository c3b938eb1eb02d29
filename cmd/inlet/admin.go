package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/inlet-dev/inlet/internal/auth"
	"github.com/inlet-dev/inlet/internal/store"
)

// adminCmd manages dashboard admins: `inlet admin create --email E` and
// `inlet admin reset-password --email E`, the password read from stdin (the
// first line) or, on a terminal, asked for twice without echo.
func adminCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	const use = "admin: use `inlet admin create --email you@example.com` or `inlet admin reset-password --email you@example.com` (password on stdin or asked for)"
	if len(args) == 0 {
		return errors.New(use)
	}
	sub := args[0]
	if sub != "create" && sub != "reset-password" {
		return fmt.Errorf("admin: unknown subcommand %q\n%s", sub, use)
	}
	fs := flag.NewFlagSet("admin "+sub, flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "the admin's email address (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if err := auth.ValidateEmail(*email); err != nil {
		return fmt.Errorf("--email: %w", err)
	}
	password, err := readPassword(stdin, stdout)
	if err != nil {
		return err
	}
	if err := auth.ValidatePassword(password); err != nil {
		return err
	}
	_, st, err := openForCommand(ctx, getenv)
	if err != nil {
		return err
	}
	defer st.Close()
	switch sub {
	case "create":
		a, err := auth.CreateAdmin(ctx, st, *email, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "admin %s created: sign in at /login\n", a.Email)
	case "reset-password":
		if err := auth.ResetPassword(ctx, st, *email, password); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "password of %s reset; their existing sessions were signed out\n", store.NormalizeEmail(*email))
	}
	return nil
}

// readPassword reads the first line of stdin. On a terminal it prompts twice
// with echo off, so the password is neither shown nor left in shell history.
func readPassword(stdin io.Reader, prompt io.Writer) (string, error) {
	f, isFile := stdin.(*os.File)
	if isFile && isTerminal(f) {
		first, err := promptNoEcho(f, prompt, "Password: ")
		if err != nil {
			return "", err
		}
		again, err := promptNoEcho(f, prompt, "Repeat password: ")
		if err != nil {
			return "", err
		}
		if first != again {
			return "", errors.New("the two passwords differ")
		}
		return first, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password on stdin: try `printf '%s\\n' \"$PASSWORD\" | inlet admin create --email you@example.com`")
	}
	return pw, nil
}

func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// promptNoEcho turns terminal echo off with stty (present on every Unix),
// which spares a dependency for one prompt.
func promptNoEcho(f *os.File, w io.Writer, label string) (string, error) {
	fmt.Fprint(w, label)
	stty := func(arg string) error {
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		return cmd.Run()
	}
	if err := stty("-echo"); err != nil {
		return "", fmt.Errorf("cannot turn off terminal echo (%v): pipe the password on stdin instead", err)
	}
	defer func() {
		_ = stty("echo")
		fmt.Fprintln(w)
	}()
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}
