package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// healthcheck is the container's HEALTHCHECK: the distroless image has no
// curl, so the binary asks its own /healthz. Exit 0 healthy, 1 not.
func healthcheck(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	url, err := healthURL(getenv("LISTEN_ADDR"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %d", url, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "healthy:", url)
	return nil
}

// healthURL turns LISTEN_ADDR (":8080", "0.0.0.0:9000", "[::1]:8080") into a
// loopback URL: the check runs inside the container, next to the server.
func healthURL(listen string) (string, error) {
	listen = strings.TrimSpace(listen)
	if listen == "" {
		listen = ":8080"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" || port == "0" {
		return "", fmt.Errorf("healthcheck: LISTEN_ADDR %q has no fixed port", listen)
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
