package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ComposeProject names a Compose project for a test: lowercase letters,
// digits and dashes, which docker-compose 1.29 keeps as they are (it drops
// every other character from a project name), unique per call.
func ComposeProject(t testing.TB, base string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random project suffix: %v", err)
	}
	return strings.ToLower(sanitize(base, 16)) + "-" + hex.EncodeToString(b[:])
}

// ComposeLabels is the YAML of the labels every test object carries
// (Labels), for a compose file's labels: sections, indented by indent.
func ComposeLabels(indent string) string {
	var sb strings.Builder
	for k, v := range Labels() {
		sb.WriteString(indent + k + ": \"" + v + "\"\n")
	}
	return sb.String()
}

// ComposeUp writes file (a compose file's text) to a directory of its own
// and brings it up with Debian's docker-compose as project, detached. When
// the test ends the project is taken down with its volumes. It returns the
// file's path. The file's services, networks and volumes should carry
// ComposeLabels, so that a test that dies before its cleanup leaves
// objects Leftovers finds.
func ComposeUp(t testing.TB, project, file string) string {
	t.Helper()
	if _, err := exec.LookPath("docker-compose"); err != nil {
		// Never a skip: .ci/run installs it (Debian's docker-compose).
		t.Fatalf("docker-compose is not installed (apt-get install docker-compose): %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "docker-compose.yml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if out, err := Compose(project, path, "down", "-v", "--remove-orphans", "--timeout", "1"); err != nil {
			t.Errorf("docker-compose down %s: %v\n%s", project, err, out)
		}
	})
	if out, err := Compose(project, path, "up", "-d", "--no-build"); err != nil {
		t.Fatalf("docker-compose up %s: %v\n%s", project, err, out)
	}
	return path
}

// Compose runs docker-compose on file as project with args, and returns
// what it printed.
func Compose(project, file string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker-compose", append([]string{"--no-ansi", "-p", project, "-f", file}, args...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}
