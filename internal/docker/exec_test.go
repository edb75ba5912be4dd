package docker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

func TestExec(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	id := dockertest.RunContainer(t, c)
	stopped := dockertest.RunContainer(t, c, dockertest.Stopped())

	tests := []struct {
		name       string
		argv       []string
		user       string
		wantExit   []int // any of these
		wantStdout string
		wantStderr string // a substring
	}{
		{name: "exit 0", argv: []string{"true"}, wantExit: []int{0}},
		{name: "exit 1", argv: []string{"false"}, wantExit: []int{1}},
		{name: "stdout, argv not a shell string", argv: []string{"echo", "a  b", "$HOME;", "|x"}, wantExit: []int{0}, wantStdout: "a  b $HOME; |x\n"},
		{name: "stderr and exit code kept apart", argv: []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, wantExit: []int{3}, wantStdout: "out\n", wantStderr: "err"},
		{name: "as root", argv: []string{"id", "-u"}, user: "0", wantExit: []int{0}, wantStdout: "0\n"},
		{name: "as nobody", argv: []string{"id", "-u"}, user: "65534", wantExit: []int{0}, wantStdout: "65534\n"},
		// Engine 20.10 reports a missing binary as 126, later ones as 127.
		{name: "missing binary", argv: []string{"no-such-binary"}, wantExit: []int{126, 127}, wantStderr: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := c.Exec(t.Context(), id, tt.argv, tt.user)
			if err != nil {
				t.Fatalf("Exec: %v", err)
			}
			if !slices.Contains(tt.wantExit, res.ExitCode) {
				t.Errorf("ExitCode = %d, want one of %v (stdout %q, stderr %q)", res.ExitCode, tt.wantExit, res.Stdout, res.Stderr)
			}
			if tt.wantStdout != "" && res.Stdout != tt.wantStdout {
				t.Errorf("Stdout = %q, want %q", res.Stdout, tt.wantStdout)
			}
			if !strings.Contains(res.Stderr, tt.wantStderr) {
				t.Errorf("Stderr = %q, want it to contain %q", res.Stderr, tt.wantStderr)
			}
		})
	}

	t.Run("missing binary says so", func(t *testing.T) {
		res, err := c.Exec(t.Context(), id, []string{"no-such-binary"}, "")
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if out := res.Stdout + res.Stderr; !strings.Contains(out, "executable file not found") {
			t.Errorf("output = %q, want the engine's \"executable file not found\"", out)
		}
	})

	t.Run("output capped at 64 KiB", func(t *testing.T) {
		res, err := c.Exec(t.Context(), id, []string{"busybox", "dd", "if=/dev/zero", "bs=1024", "count=200"}, "")
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if res.ExitCode != 0 || len(res.Stdout) != 64<<10 {
			t.Errorf("ExitCode %d, len(Stdout) = %d, want 0 and %d", res.ExitCode, len(res.Stdout), 64<<10)
		}
	})

	errTests := []struct {
		name string
		id   string
		argv []string
		want error
		msg  string
	}{
		{"stopped container", stopped, []string{"true"}, topology.ErrConflict, "is not running"},
		{"missing container", dockertest.UniqueName(t, "missing"), []string{"true"}, topology.ErrNotFound, ""},
		{"empty argv", id, nil, topology.ErrInvalid, ""},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Exec(t.Context(), tt.id, tt.argv, "")
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error = %v, want one wrapping %q and saying %q", err, tt.want, tt.msg)
			}
		})
	}

	t.Run("cancel ends a command that never does", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Exec(ctx, id, []string{"sleep", "30"}, "")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want one wrapping context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Exec returned after %v, want soon after the deadline", d)
		}
	})
}

// helperLeftovers lists the containers that carry the label key=value.
func helperLeftovers(t *testing.T, c *docker.Client, key, value string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cs, _, _, err := c.Labelled(ctx, key, value)
	if err != nil {
		t.Fatalf("Labelled: %v", err)
	}
	return cs
}

func TestRunHelper(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	donor := dockertest.RunContainer(t, c)
	target := dockertest.RunContainer(t, c)
	stopped := dockertest.RunContainer(t, c, dockertest.Stopped())
	targetIP := ipOf(t, c, target)

	// Every helper of this test carries mark, so the test can see that
	// none is left, whatever else runs on the engine.
	mark := dockertest.UniqueName(t, "helper")
	labels := dockertest.Labels("dockmap.test.helper", mark)
	noLeftovers := func(t *testing.T) {
		t.Helper()
		if cs := helperLeftovers(t, c, "dockmap.test.helper", mark); len(cs) != 0 {
			t.Errorf("helper containers left behind: %v", cs)
		}
	}

	t.Run("shares the donor's network, hosts file and hostname", func(t *testing.T) {
		res, err := c.RunHelper(t.Context(), donor, image, []string{"hostname"}, labels)
		if err != nil {
			t.Fatalf("RunHelper: %v", err)
		}
		if want := donor[:12] + "\n"; res.ExitCode != 0 || res.Stdout != want {
			t.Errorf("hostname = %d %q, want 0 %q", res.ExitCode, res.Stdout, want)
		}
		res, err = c.RunHelper(t.Context(), donor, image, []string{"cat", "/etc/hosts"}, labels)
		if err != nil {
			t.Fatalf("RunHelper: %v", err)
		}
		if donorIP := ipOf(t, c, donor); !strings.Contains(res.Stdout, donorIP+"\t"+donor[:12]) {
			t.Errorf("/etc/hosts = %q, want the donor's entry %s %s", res.Stdout, donorIP, donor[:12])
		}
		noLeftovers(t)
	})

	t.Run("pings with only NET_RAW", func(t *testing.T) {
		res, err := c.RunHelper(t.Context(), donor, image, []string{"ping", "-c", "1", "-W", "1", targetIP}, labels)
		if err != nil {
			t.Fatalf("RunHelper: %v", err)
		}
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, "bytes from "+targetIP) {
			t.Errorf("ping = %d %q %q, want a reply from %s", res.ExitCode, res.Stdout, res.Stderr, targetIP)
		}
		noLeftovers(t)
	})

	t.Run("exit code and both streams", func(t *testing.T) {
		res, err := c.RunHelper(t.Context(), donor, image, []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, labels)
		if err != nil {
			t.Fatalf("RunHelper: %v", err)
		}
		if res.ExitCode != 7 || res.Stdout != "out\n" || res.Stderr != "err\n" {
			t.Errorf("RunHelper = %+v, want exit 7, out, err", res)
		}
		noLeftovers(t)
	})

	t.Run("read-only and unprivileged", func(t *testing.T) {
		res, err := c.RunHelper(t.Context(), donor, image, []string{"touch", "/tmp/x"}, labels)
		if err != nil {
			t.Fatalf("RunHelper: %v", err)
		}
		if res.ExitCode == 0 {
			t.Errorf("touch /tmp/x in a helper succeeded, want a read-only root filesystem")
		}
		noLeftovers(t)
	})

	t.Run("cancelled while running", func(t *testing.T) {
		// The cancel comes once the helper runs: a deadline that also
		// covered the create could end the call while the engine still
		// makes the helper, which RunHelper then never hears of.
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := c.RunHelper(ctx, donor, image, []string{"sleep", "60"}, labels)
			done <- err
		}()
		returned := false
		var early error
		dockertest.WaitFor(t, time.Minute, func() (bool, string) {
			select {
			case early = <-done:
				returned = true
				return true, ""
			default:
			}
			for _, id := range helperLeftovers(t, c, "dockmap.test.helper", mark) {
				if running, _, err := c.ContainerStarted(t.Context(), id); err == nil && running {
					return true, ""
				}
			}
			return false, "no helper running"
		})
		if returned {
			t.Fatalf("RunHelper returned (error %v) before its helper was seen running", early)
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want one wrapping context.Canceled", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("RunHelper still running 20s after the cancel, want it to return soon after")
		}
		noLeftovers(t)
	})

	errTests := []struct {
		name         string
		donor, image string
		want         error
	}{
		{"donor not running", stopped, image, topology.ErrConflict},
		{"missing donor", dockertest.UniqueName(t, "missing"), image, topology.ErrNotFound},
		{"missing image", donor, "dockmap-missing:" + mark, topology.ErrNotFound},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.RunHelper(t.Context(), tt.donor, tt.image, []string{"true"}, labels)
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want one wrapping %q", err, tt.want)
			}
			noLeftovers(t)
		})
	}
}

// ipOf returns the container's address on the default bridge.
func ipOf(t *testing.T, c *docker.Client, id string) string {
	t.Helper()
	for _, ct := range mustList(t, c).Containers {
		if ct.ID != id {
			continue
		}
		for _, ep := range ct.Endpoints {
			if ep.IP != "" {
				return ep.IP
			}
		}
		t.Fatalf("container %s has no IP: %+v", id, ct.Endpoints)
	}
	t.Fatalf("container %s not listed", id)
	return ""
}

func TestEnsureProbeImage(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	dir := t.TempDir()
	notELF := filepath.Join(dir, "script")
	if err := os.WriteFile(notELF, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// A dynamically linked binary gets its libraries in the image; one
	// needing a library this host lacks cannot give an image.
	dynamic, missing := dockertest.MissingLibraryBinary(t)
	errTests := []struct {
		name, path, msg string
		want            error
	}{
		{"not ELF", notELF, "not an ELF executable", topology.ErrInvalid},
		{"dynamically linked, a library missing", dynamic, "needs " + missing + ", found in none of /lib/x86_64-linux-gnu", topology.ErrInvalid},
		{"missing file", filepath.Join(dir, "missing"), "read dockmap binary", os.ErrNotExist},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := c.EnsureProbeImage(t.Context(), tt.path)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("EnsureProbeImage = %q, %v; want an error wrapping %q saying %q", ref, err, tt.want, tt.msg)
			}
		})
	}

	// A static busybox stands in for a static dockmap: what is checked is
	// how the image is built, not what the binary does.
	t.Run("static binary", func(t *testing.T) {
		if _, err := os.Stat(dockertest.BusyboxPath); err != nil {
			t.Skipf("no static busybox: %v", err)
		}
		ctx := t.Context()
		// A copy with a byte appended gives a tag no other test uses, so
		// the image can be removed at the end.
		bb, err := os.ReadFile(dockertest.BusyboxPath)
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "dockmap")
		if err := os.WriteFile(bin, append(bb, []byte(dockertest.UniqueName(t, "x"))...), 0o755); err != nil {
			t.Fatal(err)
		}
		ref, err := c.EnsureProbeImage(ctx, bin)
		if err != nil {
			t.Fatalf("EnsureProbeImage: %v", err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := c.RemoveImage(ctx, ref); err != nil {
				t.Errorf("remove probe image: %v", err)
			}
		})
		if !strings.HasPrefix(ref, docker.ProbeRepo+":") || len(ref) != len(docker.ProbeRepo)+1+12 {
			t.Errorf("ref = %q, want %s:<12 hex digits>", ref, docker.ProbeRepo)
		}
		again, err := c.EnsureProbeImage(ctx, bin)
		if err != nil || again != ref {
			t.Errorf("second EnsureProbeImage = %q, %v; want %q", again, err, ref)
		}
		cfg, err := c.InspectImage(ctx, ref)
		if err != nil {
			t.Fatalf("InspectImage: %v", err)
		}
		if want := []string{"/dockmap", "probe"}; !slices.Equal(cfg.Entrypoint, want) {
			t.Errorf("Entrypoint = %q, want %q", cfg.Entrypoint, want)
		}
		if cfg.Labels[docker.ProbeImageLabel] != "1" || cfg.Labels[docker.HelperLabel] != "" {
			t.Errorf("Labels = %v, want %s=1 and no %s (containers inherit it)", cfg.Labels, docker.ProbeImageLabel, docker.HelperLabel)
		}
		files, err := c.ImageFiles(ctx, ref)
		if err != nil {
			t.Fatalf("ImageFiles: %v", err)
		}
		if want := []string{"/dockmap", "/etc", "/etc/group", "/etc/passwd"}; !slices.Equal(files, want) {
			t.Errorf("image files = %q, want %q", files, want)
		}
	})
}

// TestStartHelperOutput: a sidecar started for its first probes returns
// their lines and keeps running; one whose output ends first is an error
// and leaves nothing behind.
func TestStartHelperOutput(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	donor := dockertest.RunContainer(t, c)
	mark := dockertest.UniqueName(t, "helper")
	labels := dockertest.Labels("dockmap.test.helper", mark)

	id, res, err := c.StartHelperOutput(t.Context(), donor, image, []string{"sh", "-c", "echo one; echo two; exec sleep 300"}, labels, 2)
	if err != nil {
		t.Fatalf("StartHelperOutput: %v", err)
	}
	dockertest.TrackContainer(t, c, id)
	if res.Stdout != "one\ntwo\n" {
		t.Errorf("Stdout = %q, want the two lines", res.Stdout)
	}
	if cs := helperLeftovers(t, c, "dockmap.test.helper", mark); !slices.Equal(cs, []string{id}) {
		t.Errorf("helpers = %v, want the sidecar %s still running", cs, id)
	}
	if res, err := c.Exec(t.Context(), id, []string{"echo", "three"}, ""); err != nil || res.Stdout != "three\n" {
		t.Errorf("exec in the sidecar = %+v, %v, want three", res, err)
	}
	if err := c.RemoveHelper(t.Context(), id); err != nil {
		t.Fatalf("RemoveHelper: %v", err)
	}

	_, _, err = c.StartHelperOutput(t.Context(), donor, image, []string{"echo", "only one"}, labels, 2)
	if err == nil || !strings.Contains(err.Error(), "only one") {
		t.Errorf("StartHelperOutput of a helper that ends early = %v, want an error with its output", err)
	}
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		cs := helperLeftovers(t, c, "dockmap.test.helper", mark)
		return len(cs) == 0, fmt.Sprintf("helpers left: %v", cs)
	})
}
