package dockertest

import (
	"fmt"

	"github.com/dockmap/dockmap/internal/docker"
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
	dir  string
	path string
	err  error
}

// DockmapBinary returns a static dockmap binary (CGO_ENABLED=0), built once
// per test binary from the module's cmd/web. The helper image (probes,
// the leases that journal re-creates) is made from it: the test binary is
// not dockmap, and with -race not static either. Each test binary's is a
// little different (its run ID is in the version), so that each has a
// helper image of its own, which Main removes at the end without pulling
// it from under another package's tests.
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
	dir, err := os.MkdirTemp("", "dockmap-test-bin")
	if err != nil {
		return "", err
	}
	dockmapBin.dir = dir
	bin := filepath.Join(dir, "dockmap")
	return bin, goBuild(bin, "0", "-trimpath", "-ldflags", "-s -w -X main.version=test-"+runID)
}

// goBuild builds ./cmd/web of this module as out, with CGO_ENABLED=cgo
// and the extra go build flags.
func goBuild(out, cgo string, flags ...string) error {
	mod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	cmd := exec.Command("go", append(append([]string{"build"}, flags...), "-o", out, "./cmd/web")...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(mod)))
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, msg)
	}
	return nil
}

// Main runs a package's tests (call it from TestMain) and then removes
// what DockmapBinary and CgoDockmapBinary made: the helper images of this
// test binary (the helpers and leases made from them are gone with their
// tests) and the binaries themselves.
func Main(m *testing.M) int {
	code := m.Run()
	if dockmapBin.path != "" {
		if err := removeHelperImage(dockmapBin.path); err != nil {
			fmt.Fprintln(os.Stderr, "dockertest: remove the helper image:", err)
		}
	}
	if dockmapBin.dir != "" {
		os.RemoveAll(dockmapBin.dir)
	}
	if cgoBin.path != "" {
		if _, err := os.Stat(cgoBin.path); err == nil {
			if err := removeHelperImage(cgoBin.path); err != nil {
				fmt.Fprintln(os.Stderr, "dockertest: remove the cgo build's helper image:", err)
			}
		}
		os.RemoveAll(filepath.Dir(cgoBin.path))
	}
	return code
}

// removeHelperImage removes the helper image made from bin, if the engine
// has it.
func removeHelperImage(bin string) error {
	c, err := docker.New(docker.WithHelperBinary(bin))
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := callCtx()
	defer cancel()
	ref, err := c.HelperImageRef()
	if err != nil {
		return err
	}
	if ok, err := c.ImageExists(ctx, ref); err != nil || !ok {
		return err
	}
	return c.RemoveImage(ctx, ref)
}
