package dockertest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
)

// BusyboxPath is where the host's static busybox is read from (Debian's
// busybox-static package installs it there).
const BusyboxPath = "/bin/busybox"

// FixtureRepo is the repository of the fixture image; its tag carries a
// hash of the image's content, so a new busybox gets a new image.
const FixtureRepo = "dockmap-fixture"

// applets are the busybox commands the fixture links into /bin: enough for
// every chapter (ping by IP and name, TCP and HTTP, files on volumes).
var applets = []string{
	"sh", "ping", "nc", "wget", "httpd", "sleep", "cat", "echo", "ls", "hostname",
	"ip", "ifconfig", "nslookup", "top", "ps", "env", "mkdir", "touch", "rm",
	"true", "false", "id", "grep", "test", "[",
}

// fixture remembers the image this test binary built or found.
var fixture struct {
	mu  sync.Mutex // protects ref
	ref string
}

// FixtureImage returns the reference of the fixture image: a static busybox
// with its applet links, /etc/passwd, /etc/group, /tmp and /root, CMD
// ["sh"], labelled [Label]=1. It is imported from a tar built in memory the
// first time a test binary asks (never pulled) and kept in the engine for
// later runs; a file lock stops parallel test binaries from importing it
// twice.
func FixtureImage(t testing.TB) string {
	t.Helper()
	fixture.mu.Lock()
	ref := fixture.ref
	fixture.mu.Unlock()
	if ref != "" {
		return ref
	}
	return fixtureImage(t, Client(t))
}

func fixtureImage(t testing.TB, c *docker.Client) string {
	t.Helper()
	fixture.mu.Lock()
	defer fixture.mu.Unlock()
	if fixture.ref != "" {
		return fixture.ref
	}

	rootfs, err := fixtureTar()
	if err != nil {
		t.Fatalf("fixture image: %v", err)
	}
	sum := sha256.Sum256(rootfs)
	ref := FixtureRepo + ":busybox-" + hex.EncodeToString(sum[:6])

	importOnce(t, c, "fixture image", ref, rootfs, `CMD ["sh"]`)
	fixture.ref = ref
	return ref
}

// importOnce imports rootfs as image ref, with cmd and [Label], unless the
// engine has it already; a file lock stops parallel test binaries from
// importing it twice. what names the image in a failure.
func importOnce(t testing.TB, c *docker.Client, what, ref string, rootfs []byte, cmd string) {
	t.Helper()
	unlock, err := lockFile(filepath.Join(os.TempDir(), "dockmap-fixture.lock"))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	defer unlock()
	ctx, cancel := callCtx()
	defer cancel()
	exists, err := c.ImageExists(ctx, ref)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !exists {
		if err := c.ImportImage(ctx, bytes.NewReader(rootfs), ref, []string{cmd, `LABEL ` + Label + `=1`}); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// fixtureTime is the modification time of every file in the fixture, so
// that the same busybox always gives the same tar and the same tag.
var fixtureTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// fixtureTar builds the fixture's root filesystem as a tar.
func fixtureTar() ([]byte, error) {
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("read busybox (install busybox-static): %w", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	hdr := func(h *tar.Header) error {
		h.ModTime, h.Format = fixtureTime, tar.FormatPAX
		return tw.WriteHeader(h)
	}
	file := func(name string, mode int64, data []byte) error {
		if err := hdr(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data))}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	dirs := []struct {
		name string
		mode int64
	}{{"bin/", 0o755}, {"etc/", 0o755}, {"root/", 0o700}, {"tmp/", 0o1777}}
	for _, d := range dirs {
		if err := hdr(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode}); err != nil {
			return nil, err
		}
	}
	if err := file("bin/busybox", 0o755, bb); err != nil {
		return nil, err
	}
	for _, a := range applets {
		if err := hdr(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + a, Linkname: "busybox", Mode: 0o777}); err != nil {
			return nil, err
		}
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	if err := file("etc/passwd", 0o644, []byte(passwd)); err != nil {
		return nil, err
	}
	if err := file("etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
