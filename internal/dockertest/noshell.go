package dockertest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/dockmap/dockmap/internal/docker"
)

// NoShellImage returns an image with no shell at all, like a distroless
// one: only the host's static busybox, named /bin/sleep, which busybox
// then runs as sleep (it picks its applet by its own name). A container
// of it runs `sleep 3600` by default; neither sh nor bash can start in
// it. The image is imported once and kept, as FixtureImage's is.
func NoShellImage(t testing.TB, c *docker.Client) string {
	t.Helper()
	bb, err := os.ReadFile(BusyboxPath)
	if err != nil {
		t.Fatalf("no-shell image: read busybox (install busybox-static): %v", err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range []*tar.Header{
		{Typeflag: tar.TypeDir, Name: "bin/", Mode: 0o755},
		{Typeflag: tar.TypeReg, Name: "bin/sleep", Mode: 0o755, Size: int64(len(bb))},
	} {
		h.ModTime, h.Format = fixtureTime, tar.FormatPAX
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tw.Write(bb); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	ref := fmt.Sprintf("%s:noshell-%s", FixtureRepo, hex.EncodeToString(sum[:6]))
	importOnce(t, c, "no-shell image", ref, buf.Bytes(), `CMD ["/bin/sleep", "3600"]`)
	return ref
}

// RunNoShellContainer runs a container of NoShellImage, removed when the
// test ends, and returns its ID.
func RunNoShellContainer(t testing.TB, c *docker.Client, name string) string {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	id, err := c.CreateContainer(ctx, docker.ContainerSpec{Name: name, Image: NoShellImage(t, c), Cmd: []string{"/bin/sleep", "3600"}, Labels: Labels()})
	if err != nil {
		t.Fatalf("run no-shell container: %v", err)
	}
	TrackContainer(t, c, id)
	if err := c.StartContainer(ctx, id); err != nil {
		t.Fatalf("run no-shell container: %v", err)
	}
	return id
}
