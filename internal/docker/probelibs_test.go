package docker_test

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// A dockmap built with cgo on (a plain `go build`) is dynamically linked:
// its probe image carries its loader, under the path in PT_INTERP, and
// the C library, and the layer is the same bytes however often it is
// written, so its digest still names exactly these files.
func TestProbeImageOfDynamicBinary(t *testing.T) {
	t.Parallel()
	bin := dockertest.CgoDockmapBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	var interp string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, _ := io.ReadAll(p.Open())
			interp = strings.TrimRight(string(b), "\x00")
		}
	}
	f.Close()
	if interp == "" {
		t.Fatal("the cgo build has no PT_INTERP: it is not dynamically linked")
	}

	ref, diffID, files, err := docker.ProbeImageIdentity(bin)
	if err != nil {
		t.Fatalf("identify a dynamically linked dockmap: %v", err)
	}
	if files[interp] == "" {
		t.Errorf("the image does not carry the loader %s: %v", interp, files)
	}
	var libc string
	for name := range files {
		if path.Base(name) == "libc.so.6" {
			libc = name
		}
	}
	if libc == "" {
		t.Errorf("the image carries no libc.so.6: %v", files)
	}
	ref2, diffID2, _, err := docker.ProbeImageIdentity(bin)
	if err != nil || ref2 != ref || diffID2 != diffID {
		t.Errorf("second identity = %s %s %v, want %s %s", ref2, diffID2, err, ref, diffID)
	}

	var a, b bytes.Buffer
	if err := docker.WriteProbeLayer(&a, bin); err != nil {
		t.Fatal(err)
	}
	if err := docker.WriteProbeLayer(&b, bin); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two writes of the layer differ")
	}
	if sum := sha256.Sum256(a.Bytes()); "sha256:"+hex.EncodeToString(sum[:]) != diffID {
		t.Errorf("layer digest %x, want the identity's %s", sum, diffID)
	}

	// Every carried file is in the tar under its image path, a regular
	// file or a hard link to one, executable, with the fixed time; the
	// libraries come after /etc, in order.
	tr := tar.NewReader(&a)
	seen := map[string]bool{}
	var libNames []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen["/"+h.Name] = true
		if files["/"+h.Name] == "" {
			continue
		}
		libNames = append(libNames, h.Name)
		if (h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeLink) || h.Mode != 0o755 || h.ModTime.Year() != 2024 {
			t.Errorf("%s: type %c mode %o time %v, want an executable file dated 2024", h.Name, h.Typeflag, h.Mode, h.ModTime)
		}
		if h.Typeflag == tar.TypeLink && !seen["/"+h.Linkname] {
			t.Errorf("%s links to %s, which comes later or not at all", h.Name, h.Linkname)
		}
	}
	for name := range files {
		if !seen[name] {
			t.Errorf("%s is not in the layer", name)
		}
	}
	if !seen["/dockmap"] {
		t.Error("/dockmap is not in the layer")
	}
	for i := 1; i < len(libNames); i++ {
		if libNames[i-1] >= libNames[i] {
			t.Errorf("libraries out of order: %s before %s", libNames[i-1], libNames[i])
		}
	}
}

// A binary needing a library this host does not have cannot give an image;
// the error names the library, and is permanent (ErrInvalid).
func TestProbeImageMissingLibrary(t *testing.T) {
	t.Parallel()
	bin, missing := dockertest.MissingLibraryBinary(t)
	_, _, _, err := docker.ProbeImageIdentity(bin)
	if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), "needs "+missing) {
		t.Errorf("identify = %v; want an error wrapping ErrInvalid that names %s", err, missing)
	}
}

// A Go test binary (the running executable when a test embeds dockmap)
// is not dockmap: run as a helper it would run tests.
func TestProbeImageRefusesTestBinary(t *testing.T) {
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = docker.ProbeImageIdentity(exe)
	if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), "test binary") {
		t.Errorf("identify(test binary) = %v; want ErrInvalid saying it is a test binary", err)
	}
}

// The helper image of a dockmap built with cgo runs: from a container
// with no ping at all, on a user network, `dockmap probe` in a helper
// reaches the target by IP and by name (its embedded DNS through the
// source's resolv.conf).
func TestDynamicHelperProbes(t *testing.T) {
	t.Parallel()
	dockertest.Client(t) // the skip-or-fail check
	c, err := docker.New(docker.WithHelperBinary(dockertest.CgoDockmapBinary(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := t.Context()
	net := dockertest.CreateNetwork(t, c, "")
	targetName := dockertest.UniqueName(t, "target")
	target := dockertest.RunContainer(t, c, dockertest.WithNetwork(net), dockertest.WithName(targetName))
	ip := ipOf(t, c, target)
	src, err := c.CreateContainer(ctx, docker.ContainerSpec{Name: dockertest.UniqueName(t, "noping"),
		Image: dockertest.NoShellImage(t, c), Cmd: []string{"/bin/sleep", "3600"}, Labels: dockertest.Labels(), Network: net})
	if err != nil {
		t.Fatal(err)
	}
	dockertest.TrackContainer(t, c, src)
	if err := c.StartContainer(ctx, src); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Exec(ctx, src, []string{"ping", "-c", "1", ip}, "0"); err != nil || res.ExitCode == 0 {
		t.Fatalf("ping in the source = %+v, %v; want it missing", res, err)
	}

	ref, err := c.HelperImage(ctx)
	if err != nil {
		t.Fatalf("HelperImage of a dynamically linked dockmap: %v", err)
	}
	res, err := c.RunHelper(ctx, src, ref, []string{"/dockmap", "probe", "--timeout", "2s", "--", ip, targetName}, dockertest.Labels())
	if err != nil {
		t.Fatalf("RunHelper: %v", err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("dockmap probe exited %d: %s %s", res.ExitCode, res.Stdout, res.Stderr)
	}
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(res.Stdout), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("helper output %q: %v", res.Stdout, err)
		}
		lines[m["target"].(string)] = m
	}
	for _, target := range []string{ip, targetName} {
		if l := lines[target]; l["ok"] != true || l["resolved"] != ip {
			t.Errorf("probe %s through the dynamic helper = %v; want ok, resolved %s", target, l, ip)
		}
	}
}

// A library found through the binary's RUNPATH (or RPATH) with $ORIGIN
// is looked up beside the binary on this host and stored where the loader
// in the image will look, beside /dockmap; the default directories'
// libc.so.6 is then not loaded, so not carried.
func TestProbeImageOriginRunpath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\n// int answer(void) { return 42; }\nimport \"C\"\n\nfunc main() { println(C.answer()) }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dockmap")
	cmd := exec.Command("go", "build", "-ldflags", "-r $ORIGIN/libs", "-o", bin, src)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=1", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build a cgo program with a RUNPATH: %v\n%s", err, out)
	}
	_, _, files, err := docker.ProbeImageIdentity(bin)
	if err != nil {
		t.Fatal(err)
	}
	var hostLibc string
	for name, host := range files {
		if path.Base(name) == "libc.so.6" {
			hostLibc = host
		}
	}
	if hostLibc == "" {
		t.Fatalf("no libc.so.6 among %v", files)
	}
	libc, err := os.ReadFile(hostLibc)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "libs", "libc.so.6")
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(local, libc, 0o755); err != nil {
		t.Fatal(err)
	}
	_, _, files, err = docker.ProbeImageIdentity(bin)
	if err != nil {
		t.Fatal(err)
	}
	if files["/libs/libc.so.6"] != local {
		t.Errorf("/libs/libc.so.6 in the image comes from %q, want %s (found through $ORIGIN/libs)", files["/libs/libc.so.6"], local)
	}
	for name := range files {
		if path.Base(name) == "libc.so.6" && name != "/libs/libc.so.6" {
			t.Errorf("a second libc.so.6 is carried at %s", name)
		}
	}
}

// The journal's lease runs the helper image too, confined further (no
// network, no capabilities, not root): a dynamically linked dockmap's
// lease runs, holds while its owner does, and ends cleanly (exit 0, not
// the loader's 127) when released.
func TestLeaseOfDynamicHelper(t *testing.T) {
	t.Parallel()
	dockertest.Client(t) // the skip-or-fail check
	c := helperClient(t, dockertest.CgoDockmapBinary(t))
	api := rcAPI(t)
	ctx := t.Context()
	name := dockertest.UniqueName(t, "lease")
	id, release, err := c.StartLease(ctx, name, dockertest.Labels())
	if err != nil {
		t.Fatalf("StartLease with a dynamically linked helper: %v", err)
	}
	dockertest.TrackContainer(t, c, id)
	if alive, err := c.LeaseAlive(ctx, id); !alive || err != nil {
		t.Fatalf("LeaseAlive of a held lease = %v, %v; want true", alive, err)
	}
	if err := release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	waitExited(t, id)
	info, err := api.ContainerInspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.ExitCode != 0 {
		t.Errorf("the lease exited %d, want 0 (dockmap lease saw its input end)", info.State.ExitCode)
	}
	if err := c.RemoveLease(ctx, id); err != nil {
		t.Errorf("RemoveLease: %v", err)
	}
}
