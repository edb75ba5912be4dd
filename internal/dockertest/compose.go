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

	"github.com/dockmap/dockmap/internal/topology"
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
// and brings it up as project (ComposeUpFile). It returns the file's path.
func ComposeUp(t testing.TB, project, file string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "docker-compose.yml")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	ComposeUpFile(t, project, path)
	return path
}

// ComposeUpFile brings the compose file at path up as project with
// Debian's docker-compose (`up` with args, -d when none). When the test
// ends the project is taken down with its volumes, or, when its file
// cannot do that, what Compose labelled with the project is removed. The
// file's services, networks and volumes should carry ComposeLabels too,
// so that a test binary killed before its cleanup leaves objects
// Leftovers finds.
func ComposeUpFile(t testing.TB, project, path string, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("docker-compose"); err != nil {
		// Never a skip: .ci/run installs it (Debian's docker-compose).
		t.Fatalf("docker-compose is not installed (apt-get install docker-compose): %v", err)
	}
	t.Cleanup(func() {
		if out, err := Compose(project, path, "down", "-v", "--remove-orphans", "--timeout", "1"); err != nil {
			t.Errorf("docker-compose down %s: %v\n%s", project, err, out)
			removeProject(t, project)
		}
	})
	if len(args) == 0 {
		args = []string{"-d"}
	}
	if out, err := Compose(project, path, append([]string{"up", "--no-build"}, args...)...); err != nil {
		t.Fatalf("docker-compose up %s: %v\n%s", project, err, out)
	}
}

// Compose runs docker-compose on the file at path as project with args,
// in the file's directory, and returns what it printed.
func Compose(project, path string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker-compose", append([]string{"--no-ansi", "-p", project, "-f", path}, args...)...)
	cmd.Dir = filepath.Dir(path)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// removeProject removes the containers, networks and volumes Compose
// labelled with project.
func removeProject(t testing.TB, project string) {
	c := Client(t)
	ctx, cancel := callCtx()
	defer cancel()
	inv, err := c.ListInventory(ctx)
	if err != nil {
		t.Errorf("list project %s: %v", project, err)
		return
	}
	for _, ct := range inv.Containers {
		if ct.Labels[topology.ComposeProjectLabel] == project {
			if err := c.RemoveContainerAndVolumes(ctx, ct.ID); err != nil {
				t.Errorf("remove %s: %v", ct.Name, err)
			}
		}
	}
	for _, n := range inv.Networks {
		if n.Labels[topology.ComposeProjectLabel] == project {
			if err := c.RemoveNetwork(ctx, n.ID); err != nil {
				t.Errorf("remove network %s: %v", n.Name, err)
			}
		}
	}
	for _, v := range inv.Volumes {
		if v.Labels[topology.ComposeProjectLabel] == project {
			if err := c.RemoveVolume(ctx, v.Name); err != nil {
				t.Errorf("remove volume %s: %v", v.Name, err)
			}
		}
	}
}
