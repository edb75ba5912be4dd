package docker_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// A lease runs while its owner holds it, ends (exited, not removed) when
// released, is confined, is a helper (not on the map), and can be removed
// by its owner or, once ended, by anyone; never a running lease of
// another process, nor a container that is not a lease.
func TestLease(t *testing.T) {
	t.Parallel()
	dockertest.Client(t)
	bin := dockmapBinary(t)
	removeImageAtEnd(t, dockertest.Client(t), docker.ProbeRepo+":"+fileSHA(t, bin)[:12])
	c := helperClient(t, bin)
	api := rcAPI(t)
	ctx := t.Context()
	name := dockertest.UniqueName(t, "lease")
	id, release, err := c.StartLease(ctx, name, dockertest.Labels("dockmap.test.lease", name))
	if err != nil {
		t.Fatalf("StartLease: %v", err)
	}
	dockertest.TrackContainer(t, c, id)

	if alive, err := c.LeaseAlive(ctx, id); !alive || err != nil {
		t.Fatalf("LeaseAlive of a held lease = %v, %v; want true", alive, err)
	}
	info, err := api.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	hc := info.HostConfig
	checks := []struct {
		what string
		ok   bool
	}{
		{"name " + info.Name, info.Name == "/"+name},
		{"labels", info.Config.Labels["dockmap.test.lease"] == name && info.Config.Labels[dockertest.Label] == "1"},
		{"network mode " + string(hc.NetworkMode), hc.NetworkMode == "none"},
		{"read-only rootfs", hc.ReadonlyRootfs},
		{"cap drop ALL", slices.Equal(hc.CapDrop, []string{"ALL"}) && len(hc.CapAdd) == 0},
		{"no-new-privileges", slices.Contains(hc.SecurityOpt, "no-new-privileges")},
		{"a small memory limit", hc.Memory > 0 && hc.Memory <= 64<<20},
		{"no logs", hc.LogConfig.Type == "none"},
		{"kept after exit, never restarted", !hc.AutoRemove && (hc.RestartPolicy.Name == container.RestartPolicyDisabled || hc.RestartPolicy.Name == "")},
		{"not root", info.Config.User != "" && !strings.HasPrefix(info.Config.User, "0")},
		{"stdin once", info.Config.OpenStdin && info.Config.StdinOnce},
	}
	for _, ck := range checks {
		if !ck.ok {
			t.Errorf("lease container: want %s; HostConfig %+v, Config %+v", ck.what, hc, info.Config)
		}
	}
	if listed(t, c, id) || listed(t, helperClient(t, bin), id) {
		t.Errorf("the lease is on the map")
	}

	if _, _, err := c.StartLease(ctx, name, dockertest.Labels()); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("a second StartLease with the same name: %v, want an error wrapping ErrConflict", err)
	}
	if err := helperClient(t, bin).RemoveLease(ctx, id); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("RemoveLease of a running lease by another client: %v, want an error wrapping ErrConflict", err)
	}
	user := dockertest.RunContainer(t, c)
	if err := c.RemoveLease(ctx, user); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("RemoveLease of a user's container: %v, want an error wrapping ErrInvalid", err)
	}
	if _, err := c.LeaseAlive(ctx, user); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("LeaseAlive of a user's container: %v, want an error wrapping ErrInvalid", err)
	}

	// Still held after all that: it waits for its owner, not for time.
	if alive, err := c.LeaseAlive(ctx, id); !alive || err != nil {
		t.Fatalf("LeaseAlive before release = %v, %v; want true", alive, err)
	}
	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	waitExited(t, id)
	if alive, err := c.LeaseAlive(ctx, id); alive || err != nil {
		t.Errorf("LeaseAlive after release = %v, %v; want false", alive, err)
	}
	if err := release(); err != nil {
		t.Errorf("a second release: %v", err)
	}
	if err := c.RemoveLease(ctx, id); err != nil {
		t.Fatalf("RemoveLease: %v", err)
	}
	if _, err := api.ContainerInspect(ctx, id); err == nil {
		t.Errorf("the lease is still there after RemoveLease")
	}
	if err := c.RemoveLease(ctx, id); err != nil {
		t.Errorf("RemoveLease of a removed lease: %v, want nil", err)
	}
	if _, err := c.LeaseAlive(ctx, id); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("LeaseAlive of a removed lease: %v, want an error wrapping ErrNotFound", err)
	}
}

// leaseChildEnv, set to a helper binary, makes TestLeaseEndsWhenOwnerDies
// the owner: a child process that starts a lease, prints its ID and waits
// to be killed.
const leaseChildEnv = "DOCKMAP_TEST_LEASE_BINARY"

// When the owner dies without a word (SIGKILL), the engine ends its lease
// by itself: the container exits and stays, for another dockmap to read.
func TestLeaseEndsWhenOwnerDies(t *testing.T) {
	if bin := os.Getenv(leaseChildEnv); bin != "" {
		leaseOwner(t, bin, os.Getenv("DOCKMAP_TEST_LEASE_NAME"))
		return
	}
	t.Parallel()
	dockertest.Client(t)
	bin := dockmapBinary(t)
	removeImageAtEnd(t, dockertest.Client(t), docker.ProbeRepo+":"+fileSHA(t, bin)[:12])
	c := helperClient(t, bin)
	if _, err := c.HelperImage(t.Context()); err != nil {
		t.Fatalf("HelperImage: %v", err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseEndsWhenOwnerDies$", "-test.count=1")
	cmd.Env = append(os.Environ(), leaseChildEnv+"="+bin, "DOCKMAP_TEST_LEASE_NAME="+dockertest.UniqueName(t, "lease"))
	stdin, err := cmd.StdinPipe() // held open: the owner waits on it
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the owner: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		stdin.Close()
	})
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var id string
	var said []string
	timeout := time.After(2 * time.Minute)
	for id == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the owner ended without a lease:\n%s", strings.Join(said, "\n"))
			}
			said = append(said, l)
			id, _ = strings.CutPrefix(l, "lease ")
		case <-timeout:
			t.Fatalf("the owner said no lease within 2 minutes:\n%s", strings.Join(said, "\n"))
		}
	}
	dockertest.TrackContainer(t, c, id)
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	if alive, err := c.LeaseAlive(t.Context(), id); !alive || err != nil {
		t.Fatalf("LeaseAlive while the owner lives = %v, %v; want true", alive, err)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill the owner: %v", err)
	}
	_ = cmd.Wait()
	waitExited(t, id)
	if alive, err := c.LeaseAlive(t.Context(), id); alive || err != nil {
		t.Errorf("LeaseAlive after the owner died = %v, %v; want false", alive, err)
	}
	// An ended lease of another process is anyone's to remove.
	if err := c.RemoveLease(t.Context(), id); err != nil {
		t.Errorf("RemoveLease of a dead owner's lease: %v", err)
	}
}

// leaseOwner is the child process of TestLeaseEndsWhenOwnerDies.
func leaseOwner(t *testing.T, bin, name string) {
	c := helperClient(t, bin)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	id, _, err := c.StartLease(ctx, name, dockertest.Labels())
	if err != nil {
		t.Fatalf("StartLease: %v", err)
	}
	os.Stdout.WriteString("lease " + id + "\n")
	// Until killed (or the parent goes, which closes stdin).
	_, _ = bufio.NewReader(os.Stdin).ReadString(0)
}

// waitExited waits until the container has stopped, and checks that it
// exited by itself with status 0 and is still there.
func waitExited(t *testing.T, id string) {
	t.Helper()
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	waitC, errC := api.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		t.Fatalf("wait for lease %s to exit: %v", id[:12], err)
	}
	info, err := api.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatalf("the ended lease is gone: %v", err)
	}
	if info.State.Status != "exited" || info.State.ExitCode != 0 || info.State.OOMKilled {
		t.Errorf("lease state = %s, exit code %d, OOM %v; want exited with 0", info.State.Status, info.State.ExitCode, info.State.OOMKilled)
	}
}

// dockmapBinary builds a static dockmap into the test's temp dir, with a
// unique tail so that its helper image is the test's own (the tail
// changes the hash, not what runs). A lease runs its `lease` command.
func dockmapBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dockmap")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../../cmd/web")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build a static dockmap: %v\n%s", err, out)
	}
	f, err := os.OpenFile(bin, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(dockertest.UniqueName(t, "tail")); err != nil {
		t.Fatal(err)
	}
	return bin
}
