package dockertest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// dockmapBin is a static dockmap, built once per test binary.
var dockmapBin struct {
	once sync.Once
	path string
	err  error
}

// DockmapBinary returns a static dockmap binary (CGO_ENABLED=0), built once
// per test binary from the module's cmd/web. The helper image (probes,
// the leases that journal re-creates) is made from it: the test binary is
// not dockmap, and with -race not static either.
func DockmapBinary(t testing.TB) string {
	t.Helper()
	dockmapBin.once.Do(func() {
		dockmapBin.path, dockmapBin.err = buildDockmap()
	})
	if dockmapBin.err != nil {
		t.Fatalf("static dockmap for the helper image: %v", dockmapBin.err)
	}
	return dockmapBin.path
}

func buildDockmap() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	dir, err := os.MkdirTemp("", "dockmap-test-bin")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dockmap")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=test", "-o", bin, "./cmd/web")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}
