package reliability

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// inletBin is the inlet binary TestMain built; empty when the suite is off.
var inletBin string

func TestMain(m *testing.M) {
	if os.Getenv("INLET_RELIABILITY") != "1" {
		os.Exit(m.Run()) // every test skips and says why
	}
	// INLET_RELIABILITY_BIN runs the suite against a given binary (e.g. one
	// built from an older commit, to measure what a fix changed).
	if bin := os.Getenv("INLET_RELIABILITY_BIN"); bin != "" {
		inletBin = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "inlet-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(2)
	}
	inletBin = filepath.Join(dir, "inlet")
	args := []string{"build", "-o", inletBin}
	// The server under the race detector catches races that only faults
	// provoke, at the price of a much slower server.
	if os.Getenv("INLET_RELIABILITY_RACE") == "1" {
		args = append(args, "-race")
	}
	build := exec.Command(goTool(), append(args, "github.com/inlet-dev/inlet/cmd/inlet")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "reliability: go build ./cmd/inlet:", err)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// goTool finds the go command that is running these tests.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "/usr/local/go/bin/go"
}

// needSuite skips unless INLET_RELIABILITY=1.
func needSuite(t *testing.T) {
	t.Helper()
	if inletBin == "" {
		t.Skip("fault tests are off: run them with INLET_RELIABILITY=1 go test -race -count=1 -timeout 20m ./test/reliability (or make test-reliability); they take a few minutes")
	}
}
