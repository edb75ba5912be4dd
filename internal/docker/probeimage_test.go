package docker_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// Concurrent EnsureProbeImage calls for a new binary (the prober and a
// probe command at once, or parallel tests) import it once: a second
// import would move the tag to a fresh image and leave a dangling one
// behind on every run.
func TestEnsureProbeImageImportsOnce(t *testing.T) {
	c := dockertest.Client(t)
	api := rcAPI(t)
	bb, err := os.ReadFile(dockertest.BusyboxPath)
	if err != nil {
		t.Fatalf("static busybox: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "dockmap")
	if err := os.WriteFile(bin, append(bb, []byte(dockertest.UniqueName(t, "once"))...), 0o755); err != nil {
		t.Fatal(err)
	}
	dangling := func() map[string]bool {
		t.Helper()
		imgs, err := api.ImageList(t.Context(), image.ListOptions{All: true, Filters: filters.NewArgs(
			filters.Arg("dangling", "true"), filters.Arg("label", docker.ProbeImageLabel+"=1"))})
		if err != nil {
			t.Fatal(err)
		}
		ids := map[string]bool{}
		for _, i := range imgs {
			ids[i.ID] = true
		}
		return ids
	}
	before := dangling()

	var wg sync.WaitGroup
	refs := make([]string, 4)
	errs := make([]error, 4)
	for i := range refs {
		wg.Go(func() { refs[i], errs[i] = c.EnsureProbeImage(t.Context(), bin) })
	}
	wg.Wait()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.RemoveImage(ctx, refs[0])
	})
	for i := range refs {
		if errs[i] != nil || refs[i] != refs[0] {
			t.Fatalf("EnsureProbeImage #%d = %q, %v; want %q", i, refs[i], errs[i], refs[0])
		}
	}
	for id := range dangling() {
		if !before[id] {
			t.Errorf("a dangling probe image %s was left by the concurrent imports", id)
		}
	}
}
